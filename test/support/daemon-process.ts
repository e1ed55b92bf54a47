import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

/** The repository root, where dist/cli.js is. */
export const ROOT = path.resolve(import.meta.dirname, '../..');

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `odoo-paylink run` from dist/ with a config file, its stdout and stderr gathered in one text. */
export interface DaemonProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Waits until the output contains `text` (at most `timeoutMs`); false when it never did. */
  waitFor(text: string, timeoutMs?: number): Promise<boolean>;
  /** The exit code once it exits. */
  exited(): Promise<number | null>;
}

export function spawnDaemon(configFile: string): DaemonProcess {
  let output = '';
  const child = spawn(
    process.execPath,
    ['dist/cli.js', 'run', '--config', configFile, '--log-format', 'json'],
    {
      cwd: ROOT,
      env: { ...process.env, PAYLINK_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const gather = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', gather);
  child.stderr?.on('data', gather);
  const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return {
    child,
    output: () => output,
    async waitFor(text, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!output.includes(text) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      return output.includes(text);
    },
    exited: () => exit,
  };
}
