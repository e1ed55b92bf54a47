import { z } from 'zod';
import type { SettingsRepository } from './settings.js';

/** The running daemon's sign of life, in the settings table: `status` reads it from another process. */
const HEARTBEAT_KEY = 'daemon.heartbeat';

const heartbeatSchema = z.object({
  at: z.number(),
  pid: z.number(),
  /** /readyz's verdict when written: empty when ready, else its reason codes. */
  reasons: z.array(z.string()),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

/** How often `run` writes it; `status` calls it stale after STALE_AFTER_MS. */
export const HEARTBEAT_INTERVAL_MS = 15_000;
export const STALE_AFTER_MS = 4 * HEARTBEAT_INTERVAL_MS;

export function readHeartbeat(settings: SettingsRepository): Heartbeat | undefined {
  return settings.get(HEARTBEAT_KEY, heartbeatSchema);
}

/**
 * Writes the heartbeat now and every HEARTBEAT_INTERVAL_MS until the returned stop, which
 * removes it: a daemon that stopped cleanly is "not running" at once, one that died goes stale.
 */
export function startHeartbeat(
  settings: SettingsRepository,
  options: { reasons: () => readonly string[]; now: () => number; storeOpen: () => boolean },
): () => void {
  const beat = () => {
    if (!options.storeOpen()) return;
    try {
      settings.set(
        HEARTBEAT_KEY,
        { at: options.now(), pid: process.pid, reasons: [...options.reasons()] },
        options.now(),
      );
    } catch {
      // A busy or closing store: the next beat tries again, and a missed one only ages it.
    }
  };
  beat();
  const timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (options.storeOpen()) settings.remove(HEARTBEAT_KEY);
  };
}
