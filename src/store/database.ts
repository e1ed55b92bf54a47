import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/**
 * Opens the state database: WAL so readers never block the writer, and a busy timeout so a second
 * process waits instead of failing. synchronous=NORMAL (WAL's default in better-sqlite3) is a
 * deliberate choice: it survives any crash of the process; only a power loss can drop the last
 * commits, and every effect that follows a commit is idempotent against the outside world
 * (link by reference, payment by memo, note by marker), so a lost commit is redone like a crash.
 * FULL would fsync every transition on the event loop and cap the daemon at the disk's latency.
 */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file, { timeout: 10_000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

/** Applies pending migrations in order, each in its own transaction; the version lives in user_version. */
export function migrate(db: Db): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `the state database is at schema version ${current}, newer than this odoo-paylink knows (${MIGRATIONS.length}): upgrade odoo-paylink`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
  return MIGRATIONS.length;
}
