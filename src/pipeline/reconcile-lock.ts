import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import { acquireStoreLock, StoreLockedError, type StoreLockHolder, storeLockHolder } from '../store/lock.js';

/**
 * One reconciliation per store at a time: the daemon's nightly run and a `reconcile` from cron
 * (or two from cron) would otherwise compare and --fix the same payments at once. It is a lock
 * of its own, `<store>.reconcile.lock`, not the daemon's store lock, so `reconcile` still works
 * while the daemon runs: the links the daemon is working on are claimed by it (a lease) and are
 * left to it, and SQLite's busy timeout serialises the writes.
 */

export class ReconcileLockedError extends Error {
  override name = 'ReconcileLockedError';

  constructor(
    readonly lockPath: string,
    readonly holder: StoreLockHolder | undefined,
    /** Whether the holder is the daemon of this store (its nightly run). */
    readonly byDaemon: boolean,
  ) {
    const who = holder
      ? `${byDaemon ? "the daemon's own nightly run" : 'another reconcile'} (pid ${holder.pid} on ${holder.host}, started ${holder.startedAt})`
      : 'another reconcile (its lock file is being written or cannot be read)';
    super(`${who} is reconciling this store now; this run did nothing (lock file ${lockPath})`);
  }
}

export interface ReconcileLockOptions {
  /** How long to wait for a run in progress to finish; 0 (the default) refuses at once. */
  readonly waitMs?: number;
  /** Between two attempts while waiting. */
  readonly pollMs?: number;
}

/** The runs this async context is inside, so the CLI's lock covers the pipeline's call within it. */
const inside = new AsyncLocalStorage<string>();

export function reconcileLockPath(storePath: string): string {
  return `${path.resolve(storePath)}.reconcile.lock`;
}

/** Runs `body` holding the reconcile lock of this store; throws ReconcileLockedError when another run holds it. */
export async function withReconcileLock<T>(
  storePath: string,
  body: () => Promise<T>,
  options: ReconcileLockOptions = {},
): Promise<T> {
  if (storePath === ':memory:') return body();
  const lockPath = reconcileLockPath(storePath);
  if (inside.getStore() === lockPath) return body();
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    try {
      // The store lock's code, on a file of its own: `<store>.reconcile` + `.lock`.
      const lock = acquireStoreLock(`${path.resolve(storePath)}.reconcile`);
      try {
        return await inside.run(lockPath, body);
      } finally {
        lock.release();
      }
    } catch (error) {
      if (!(error instanceof StoreLockedError) || error.lockPath !== lockPath) throw error;
      if (Date.now() >= deadline) {
        const daemon = storeLockHolder(storePath);
        throw new ReconcileLockedError(
          lockPath,
          error.holder,
          daemon !== undefined && error.holder !== undefined && daemon.pid === error.holder.pid,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
    }
  }
}
