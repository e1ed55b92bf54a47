import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { acquireStoreLock, type StoreLock, StoreLockedError } from './lock.js';

const NOW = Date.UTC(2026, 5, 1, 8, 30);
let dir: string;
let store: string;
let lockFile: string;
const locks: StoreLock[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'paylink-lock-'));
  store = path.join(dir, 'var', 'paylink.db');
  lockFile = `${store}.lock`;
});

afterEach(() => {
  for (const lock of locks.splice(0)) lock.release();
  rmSync(dir, { recursive: true, force: true });
});

function acquire(options: Parameters<typeof acquireStoreLock>[1] = {}): StoreLock {
  const lock = acquireStoreLock(store, { now: () => NOW, ...options });
  locks.push(lock);
  return lock;
}

function writeHolder(holder: { pid: number; host: string; startedAt: string }): void {
  acquire().release(); // creates the folder
  writeFileSync(lockFile, JSON.stringify(holder));
}

function lockedError(run: () => unknown): StoreLockedError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreLockedError);
    return error as StoreLockedError;
  }
  throw new Error('the lock was granted');
}

const holderFile = () => JSON.parse(readFileSync(lockFile, 'utf8')) as unknown;
const other = { pid: 424_242, host: hostname(), startedAt: '2026-05-31T22:00:00.000Z' };

describe('acquireStoreLock', () => {
  it('creates <store>.lock with our pid, host and start time, and refuses a second acquisition', () => {
    const lock = acquire();
    expect(lock).toMatchObject({ path: lockFile, takenOver: false, previous: undefined });
    expect(holderFile()).toEqual({
      pid: process.pid,
      host: hostname(),
      startedAt: '2026-06-01T08:30:00.000Z',
    });

    const error = lockedError(() => acquire());
    expect(error.message).toContain(
      `another odoo-paylink daemon uses ${store}; stop it first, or give this one its own store.path (one writer per SQLite store)`,
    );
    expect(error.message).toContain(
      `pid ${process.pid} on host ${hostname()}, started 2026-06-01T08:30:00.000Z`,
    );

    lock.release();
    expect(existsSync(lockFile)).toBe(false);
    expect(acquire().path).toBe(lockFile);
  });

  it('refuses a lock held by another live daemon of this host, naming it, and leaves its file alone', () => {
    writeHolder(other);
    const isAlive = vi.fn((pid: number) => pid === other.pid);
    const error = lockedError(() => acquire({ isAlive }));
    expect(isAlive).toHaveBeenCalledWith(other.pid);
    expect(error.holder).toEqual(other);
    expect(error.message).toContain(`another odoo-paylink daemon uses ${store}; stop it first`);
    expect(error.message).toContain(`pid 424242 on host ${hostname()}, started 2026-05-31T22:00:00.000Z`);
    expect(holderFile()).toEqual(other);
  });

  it('takes over the stale lock of a dead pid of this host', () => {
    writeHolder(other);
    const lock = acquire({ isAlive: () => false });
    expect(lock).toMatchObject({ path: lockFile, takenOver: true, previous: other });
    expect(holderFile()).toMatchObject({ pid: process.pid });
  });

  it('knows a dead pid by ESRCH from process.kill(pid, 0)', () => {
    const exited = spawnSync(process.execPath, ['-e', '']).pid!;
    writeHolder({ ...other, pid: exited });
    expect(acquire()).toMatchObject({ takenOver: true, previous: { pid: exited } });
  });

  it('takes over a lock of our own pid that this process does not hold (a restarted container)', () => {
    writeHolder({ ...other, pid: process.pid });
    expect(acquire({ isAlive: () => true })).toMatchObject({ takenOver: true });
  });

  it('never takes over a lock written on another host, and says how to clear it', () => {
    writeHolder({ ...other, host: 'erp-2.example.com' });
    const isAlive = vi.fn(() => false);
    const error = lockedError(() => acquire({ isAlive }));
    expect(isAlive).not.toHaveBeenCalled();
    expect(error.message).toContain('on host erp-2.example.com');
    expect(error.message).toContain(`if it no longer runs on erp-2.example.com, delete ${lockFile}`);
  });

  it('takes over an empty lock file left by a crash right after creating it, unless it is being written', () => {
    acquire().release();
    writeFileSync(lockFile, '');
    expect(lockedError(() => acquire({ now: Date.now })).holder).toBeUndefined();
    const minuteAgo = new Date(Date.now() - 60_000);
    utimesSync(lockFile, minuteAgo, minuteAgo);
    expect(acquire({ now: Date.now })).toMatchObject({ takenOver: true, previous: undefined });
  });

  it('releases by removing the file only while it is still ours', () => {
    const lock = acquire();
    writeFileSync(lockFile, JSON.stringify(other));
    lock.release();
    expect(holderFile()).toEqual(other);

    rmSync(lockFile);
    const again = acquire();
    again.release();
    expect(existsSync(lockFile)).toBe(false);
    writeFileSync(lockFile, JSON.stringify(other));
    again.release(); // twice: the second does nothing
    expect(holderFile()).toEqual(other);
  });

  it('needs no lock for a :memory: store', () => {
    const lock = acquireStoreLock(':memory:');
    expect(lock).toMatchObject({ path: undefined, takenOver: false });
    expect(existsSync(':memory:.lock')).toBe(false);
    lock.release();
  });
});
