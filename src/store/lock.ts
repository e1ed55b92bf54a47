import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

/**
 * One daemon per store. SQLite keeps two writers consistent, but the daemon's own reasoning
 * (leases, "a link is held by one worker at a time", cursors) assumes it is the only daemon on
 * its store, so a second one is refused at start with a message saying what to do.
 *
 * How it is meant to be used (not wired yet; the caller is `run`, and `sync` for its pass):
 *
 *   const lock = acquireStoreLock(config.store.path);      // before openDatabase; throws StoreLockedError
 *   if (lock.takenOver) log.warn(`took over the lock of pid ${lock.previous?.pid}, which is no longer running`);
 *   …run until stopped, close the database…
 *   lock.release();                                        // last, after the database is closed
 *
 * Commands that change a row or two while the daemon runs (`retry`, `resend`, `status`,
 * `reconcile` from cron) must not take it, or they could not be used next to the daemon; SQLite's
 * busy timeout serialises their writes. A StoreLockedError is the admin's to fix (stop the other
 * daemon or give this one its own store.path), like a configuration error.
 *
 * The lock is `<store path>.lock`, created with O_EXCL and holding {pid, host, startedAt}. A lock
 * left behind is stale, and replaced, when it was written on this host by a process that no
 * longer runs, or by this very pid outside this process (a container restarted: the daemon is
 * pid 1 again). A lock written on another host is never replaced: whether that daemon runs
 * cannot be told from here. "Host" is the hostname, so containers sharing a store's volume need
 * distinct hostnames (the default): one cannot see the other's processes. Two daemons starting
 * in the same instant over one stale lock can still both win (a plain file has no atomic
 * "replace if still stale"); a supervisor starting one daemon per store never does that.
 */

export interface StoreLockHolder {
  readonly pid: number;
  readonly host: string;
  /** ISO 8601. */
  readonly startedAt: string;
}

export interface StoreLock {
  /** The lock file, or undefined for a ':memory:' store, which needs none. */
  readonly path: string | undefined;
  /** True when a stale lock of a daemon that no longer runs was replaced (worth a log line). */
  readonly takenOver: boolean;
  /** The holder of the stale lock that was replaced (undefined too when its file was unreadable). */
  readonly previous: StoreLockHolder | undefined;
  /** Removes the lock file if it is still ours; safe to call twice. */
  release(): void;
}

export class StoreLockedError extends Error {
  override name = 'StoreLockedError';

  constructor(
    readonly storePath: string,
    readonly lockPath: string,
    readonly holder: StoreLockHolder | undefined,
  ) {
    const who = holder
      ? `It is pid ${holder.pid} on host ${holder.host}, started ${holder.startedAt}`
      : 'Its lock file is being written or cannot be read';
    const elsewhere =
      holder && holder.host !== hostname()
        ? `; if it no longer runs on ${holder.host}, delete ${lockPath}`
        : ` (lock file ${lockPath})`;
    super(
      `another odoo-paylink daemon uses ${storePath}; stop it first, or give this one its own store.path (one writer per SQLite store). ${who}${elsewhere}.`,
    );
  }
}

export interface AcquireStoreLockOptions {
  /** Clock (epoch ms) for startedAt and the staleness checks. */
  readonly now?: () => number;
  /** Whether a process of this host runs; process.kill(pid, 0) by default. */
  readonly isAlive?: (pid: number) => boolean;
}

/** Lock files this process holds, so a second acquisition in one process is refused too. */
const held = new Set<string>();

/** A lock file without valid content younger than this is being written right now. */
const WRITE_GRACE_MS = 10_000;

export function acquireStoreLock(storePath: string, options: AcquireStoreLockOptions = {}): StoreLock {
  if (storePath === ':memory:') {
    return { path: undefined, takenOver: false, previous: undefined, release: () => {} };
  }
  const now = options.now ?? Date.now;
  const isAlive = options.isAlive ?? processRuns;
  const store = path.resolve(storePath);
  const lockPath = `${store}.lock`;
  const mine: StoreLockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date(now()).toISOString(),
  };
  mkdirSync(path.dirname(lockPath), { recursive: true });

  let takenOver = false;
  let previous: StoreLockHolder | undefined;
  // Twice at most: once more after removing a stale lock, in case another daemon took it meanwhile.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (create(lockPath, mine)) {
      held.add(lockPath);
      return {
        path: lockPath,
        takenOver,
        previous,
        release: () => release(lockPath, mine),
      };
    }
    const found = read(lockPath);
    if (found === 'gone') continue;
    const holder = found === 'unreadable' ? undefined : found;
    if (!isStale(lockPath, holder, { now: now(), isAlive })) {
      throw new StoreLockedError(store, lockPath, holder);
    }
    // Only the lock just judged stale is removed, not one written since.
    if (sameHolder(read(lockPath), holder)) removeQuietly(lockPath);
    takenOver = true;
    previous = holder;
  }
  throw new StoreLockedError(store, lockPath, asHolder(read(lockPath)));
}

/**
 * Who holds this store's lock now: its holder when the lock names one that may be alive (any
 * other host, or a process of this host that still runs), undefined when there is none.
 */
export function storeLockHolder(storePath: string): StoreLockHolder | undefined {
  if (storePath === ':memory:') return undefined;
  const holder = asHolder(read(`${path.resolve(storePath)}.lock`));
  if (!holder || holder.host !== hostname()) return holder;
  return processRuns(holder.pid) ? holder : undefined;
}

function create(lockPath: string, holder: StoreLockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, `${JSON.stringify(holder)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function read(lockPath: string): StoreLockHolder | 'unreadable' | 'gone' {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    return 'unreadable';
  }
  try {
    const value = JSON.parse(text) as Partial<StoreLockHolder> | null;
    if (
      value &&
      Number.isSafeInteger(value.pid) &&
      typeof value.host === 'string' &&
      typeof value.startedAt === 'string'
    ) {
      return { pid: value.pid!, host: value.host, startedAt: value.startedAt };
    }
  } catch {
    // Empty or cut short: treated below like any unreadable lock.
  }
  return 'unreadable';
}

function asHolder(found: ReturnType<typeof read>): StoreLockHolder | undefined {
  return typeof found === 'object' ? found : undefined;
}

function sameHolder(found: ReturnType<typeof read>, holder: StoreLockHolder | undefined): boolean {
  if (holder === undefined) return found === 'unreadable';
  return (
    typeof found === 'object' &&
    found.pid === holder.pid &&
    found.host === holder.host &&
    found.startedAt === holder.startedAt
  );
}

function isStale(
  lockPath: string,
  holder: StoreLockHolder | undefined,
  context: { now: number; isAlive: (pid: number) => boolean },
): boolean {
  if (held.has(lockPath)) return false;
  if (holder === undefined) {
    // A daemon that died between creating the file and writing it; unless it is being written now.
    try {
      return context.now - statSync(lockPath).mtimeMs > WRITE_GRACE_MS;
    } catch {
      return false;
    }
  }
  if (holder.host !== hostname()) return false;
  // Not held by this process (checked above), so a former life of this pid.
  if (holder.pid === process.pid) return true;
  return !context.isAlive(holder.pid);
}

function release(lockPath: string, mine: StoreLockHolder): void {
  if (!held.has(lockPath)) return;
  held.delete(lockPath);
  if (sameHolder(read(lockPath), mine)) removeQuietly(lockPath);
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** process.kill(pid, 0) sends nothing: ESRCH means no such process, EPERM one we may not signal. */
function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
