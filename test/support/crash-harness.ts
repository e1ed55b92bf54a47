/**
 * Pieces of the crash suite: a seeded PRNG, the daemon as a child process (logs captured and
 * parsed), and a tapping proxy that lets the test kill the daemon at the exact moment one of its
 * requests has taken effect upstream but before the answer reaches it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// ---- seeded randomness ------------------------------------------------------------------------

/** mulberry32: small, fast, good enough to replay a run from its seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export class Rng {
  private readonly next: () => number;

  constructor(readonly seed: number) {
    this.next = mulberry32(seed);
  }

  float(): number {
    return this.next();
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** `length` hex digits, for credentials a test can later look for in every output. */
  hex(length: number): string {
    let out = '';
    for (let index = 0; index < length; index++) out += this.int(0, 15).toString(16);
    return out;
  }

  /** Up to `count` distinct items, in a seeded order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const copy = [...items];
    for (let index = copy.length - 1; index > 0; index--) {
      const other = Math.floor(this.next() * (index + 1));
      [copy[index], copy[other]] = [copy[other]!, copy[index]!];
    }
    return copy.slice(0, count);
  }
}

/** CRASH_SEED when given (to replay a failure), otherwise a fresh one. */
export function crashSeed(): number {
  const given = process.env.CRASH_SEED;
  if (given !== undefined && given.trim() !== '') {
    const seed = Number(given);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`CRASH_SEED must be a non-negative integer`);
    return seed >>> 0;
  }
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

// ---- ports ------------------------------------------------------------------------------------

async function tryListen(port: number): Promise<number | undefined> {
  const server = createNetServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (!bound) return undefined;
  const { port: actual } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return actual;
}

/** The lowest port the kernel hands out for outgoing connections (Linux), or 32768. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 12_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * A TCP port that was free a moment ago. It is taken below the ephemeral range when possible, so
 * that while the daemon is down no outgoing connection of this process grabs it as its local port
 * and the restarted daemon can listen on it again.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await tryListen(10_000 + Math.floor(Math.random() * (high - 10_000)));
    if (port !== undefined) return port;
  }
  const port = await tryListen(0);
  if (port === undefined) throw new Error('no free TCP port on 127.0.0.1');
  return port;
}

// ---- timing -----------------------------------------------------------------------------------

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Timers a scenario sets for later, all cleared at once when it ends (passed or failed). */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();

  later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      run();
    }, ms);
    this.pending.add(timer);
  }

  clear(): void {
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }
}

// ---- kill plans -------------------------------------------------------------------------------

export type KillMode = 'startup' | 'early' | 'late' | 'nth-call' | 'after-effect' | 'after-log';

/** An effect upstream after which the daemon may be killed, before the answer reaches it. */
export interface Effect {
  readonly name: string;
  readonly matches: (call: TappedCall) => boolean;
}

/** When one run of the daemon is killed. */
export interface KillPlan {
  readonly mode: KillMode;
  readonly delayMs: number;
  readonly nthCall: number;
  readonly effect: string;
  readonly logTrigger: string;
  readonly fallbackMs: number;
}

// ---- the daemon as a child process ------------------------------------------------------------

export interface LogRecord {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

let spawnCounter = 0;

/**
 * `node dist/cli.js <args>` with stdout and stderr captured whole. Log lines (JSON; `run` puts
 * info on stdout, warnings and errors on stderr) are parsed as they come; anything else on
 * stderr is kept apart, since the daemon writes nothing but JSON there when it is healthy.
 */
export class ChildDaemon {
  readonly index = ++spawnCounter;
  readonly startedAt = Date.now();
  readonly logs: LogRecord[] = [];
  /** stderr lines that are not JSON log records (stack traces, the CLI's own error line). */
  readonly strayStderr: string[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<ChildExit>;
  exit: ChildExit | undefined;
  /** Set once this test sent a signal, with the signal. */
  signalled: NodeJS.Signals | undefined;
  private readonly child: ChildProcess;
  private readonly listeners = new Set<(record: LogRecord) => void>();
  private pending = '';
  private pendingStdout = '';

  constructor(
    readonly args: readonly string[],
    options: { cwd: string; env: NodeJS.ProcessEnv },
  ) {
    this.child = spawn(process.execPath, ['dist/cli.js', ...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8');
    this.child.stderr?.setEncoding('utf8');
    // `run` logs info to stdout and warnings/errors to stderr: records are read from both.
    this.child.stdout?.on('data', (chunk: string) => {
      this.stdout += chunk;
      this.pendingStdout = this.onLines(this.pendingStdout + chunk, undefined);
    });
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
      this.pending = this.onLines(this.pending + chunk, this.strayStderr);
    });
    this.exited = new Promise<ChildExit>((resolve) => {
      // 'close' waits for the pipes too, so every line written before death has been read.
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        // A line cut by SIGKILL has no newline; it is kept as raw text only.
        if (this.pending.trim() !== '' && signal !== 'SIGKILL') this.strayStderr.push(this.pending);
        this.pending = '';
        resolve(this.exit);
      });
      this.child.once('error', (error) => {
        this.strayStderr.push(`spawn error: ${error.message}`);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  onLog(listener: (record: LogRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the first record (already seen or coming) that matches, or undefined on timeout. */
  waitForLog(match: (record: LogRecord) => boolean, timeoutMs: number): Promise<LogRecord | undefined> {
    const seen = this.logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const done = (record: LogRecord | undefined) => {
        clearTimeout(timer);
        off();
        resolve(record);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const off = this.onLog((record) => {
        if (match(record)) done(record);
      });
      void this.exited.then(() => done(undefined));
    });
  }

  /** Sends a signal once the child still runs; SIGKILL is what the crash suite is about. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): boolean {
    if (!this.running || this.signalled === 'SIGKILL') return false;
    this.signalled = signal;
    return this.child.kill(signal);
  }

  /** Kills the child if still running and waits for it (cleanup). */
  async stop(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Parses the complete lines of `text` as log records; returns the incomplete rest. */
  private onLines(text: string, stray: string[] | undefined): string {
    const lines = text.split('\n');
    const rest = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      let record: LogRecord | undefined;
      try {
        const parsed: unknown = JSON.parse(line);
        if (
          typeof parsed === 'object' &&
          parsed !== null &&
          typeof (parsed as { level?: unknown }).level === 'string' &&
          typeof (parsed as { message?: unknown }).message === 'string'
        ) {
          record = parsed as LogRecord;
        }
      } catch {
        record = undefined;
      }
      if (!record) {
        stray?.push(line);
        continue;
      }
      this.logs.push(record);
      for (const listener of [...this.listeners]) listener(record);
    }
    return rest;
  }
}

/** The environment of a child daemon: nothing from ours may override its config file. */
export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(ODOO_|MYTPE_|TILOPAY_|TENDOPAY_|MPCHAT_|PAYLINK_|LOG_|SMTP_|MAIL_)/.test(key)) delete env[key];
  }
  return env;
}

/** Starts `node dist/cli.js <command> --config …` of a scenario and keeps it in its list. */
export function spawnDaemon(
  scenario: { readonly configPath: string; readonly daemons: ChildDaemon[] },
  command: 'run' | 'sync',
): ChildDaemon {
  const daemon = new ChildDaemon([command, '--config', scenario.configPath], { cwd: ROOT, env: childEnv() });
  scenario.daemons.push(daemon);
  return daemon;
}

/**
 * After a scenario: a failed one keeps its folder (state database, config) with every process's
 * log in daemons.log for a post-mortem; a passed one is removed.
 */
export function keepForPostMortem(dir: string, daemons: readonly ChildDaemon[], failed: boolean): void {
  if (!failed) {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const logs = daemons
    .map(
      (daemon) =>
        `=== process #${daemon.index} ${daemon.args.join(' ')} → ${JSON.stringify(daemon.exit)}\n${daemon.stderr}${daemon.stdout}`,
    )
    .join('\n');
  writeFileSync(path.join(dir, 'daemons.log'), logs);
  console.error(`[crash] kept ${dir} (daemons.log, paylink.db, config.json)`);
}

// ---- a tapping proxy --------------------------------------------------------------------------

export interface TappedCall {
  /** Which upstream ('odoo', 'mytpe'). */
  readonly upstream: string;
  readonly method: string;
  /** Path and query as the daemon sent them. */
  readonly path: string;
  readonly requestBody: Buffer;
  /** Status the upstream answered with (the effect, if any, has happened). */
  readonly status: number;
}

/**
 * Returns true to swallow the answer: the daemon's connection is cut instead of being answered.
 * The crash suite kills the daemon inside this hook, so the call took effect and the daemon never
 * learnt it.
 */
export type TapHook = (call: TappedCall) => boolean;

function forwardHeaders(headers: IncomingHttpHeaders, host: string): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = { ...headers, host };
  delete out.connection;
  delete out['keep-alive'];
  return out;
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
    stream.on('aborted', () => reject(new Error('aborted')));
  });
}

/** An HTTP proxy on loopback in front of one upstream; every answer passes through `hook`. */
export class Tap {
  hook: TapHook | undefined;
  /** Requests answered upstream since the counter was last reset. */
  answered = 0;
  url = '';
  private readonly server: Server;
  private readonly upstream: URL;

  constructor(
    readonly name: string,
    upstreamUrl: string,
  ) {
    this.upstream = new URL(upstreamUrl);
    this.server = createServer((request, response) => {
      this.handle(request, response).catch(() => {
        response.destroy();
      });
    });
    this.server.keepAliveTimeout = 1_000;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    request.on('error', () => undefined);
    response.on('error', () => undefined);
    const body = await readAll(request);
    const upstream = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>(
      (resolve, reject) => {
        const outgoing = httpRequest(
          {
            host: this.upstream.hostname,
            port: this.upstream.port,
            method: request.method,
            path: request.url,
            headers: forwardHeaders(request.headers, this.upstream.host),
          },
          (answer) => {
            readAll(answer).then(
              (answerBody) =>
                resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: answerBody }),
              reject,
            );
          },
        );
        outgoing.on('error', reject);
        outgoing.end(body);
      },
    ).catch(() => undefined);
    if (!upstream) {
      // The upstream cut the connection (a fault knob): pass the cut on.
      response.destroy();
      return;
    }
    this.answered++;
    const swallow =
      this.hook?.({
        upstream: this.name,
        method: request.method ?? 'GET',
        path: request.url ?? '/',
        requestBody: body,
        status: upstream.status,
      }) ?? false;
    if (swallow) {
      response.destroy();
      return;
    }
    const headers: IncomingHttpHeaders = { ...upstream.headers };
    delete headers['transfer-encoding'];
    delete headers.connection;
    delete headers['keep-alive'];
    headers['content-length'] = String(upstream.body.length);
    response.writeHead(upstream.status, headers);
    response.end(upstream.body);
  }
}

/** The Odoo model method of a JSON-RPC execute_kw body, e.g. 'account.move.write'. */
export function odooCallOf(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as {
      params?: { service?: unknown; method?: unknown; args?: unknown };
    };
    const params = parsed.params;
    if (!params) return undefined;
    if (params.service === 'object' && params.method === 'execute_kw' && Array.isArray(params.args)) {
      return `${String(params.args[3])}.${String(params.args[4])}`;
    }
    return `${String(params.service)}.${String(params.method)}`;
  } catch {
    return undefined;
  }
}
