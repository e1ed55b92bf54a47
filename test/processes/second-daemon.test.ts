import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let stack: Stack;
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children.length = 0;
  await stack?.close();
});

function daemon(configFile: string): {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
} {
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
  children.push(child);
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return { child, output: () => output, exit: new Promise((resolve) => child.on('exit', resolve)) };
}

describe('a second daemon on the same store', () => {
  it('refuses to start, says which daemon holds the store, and exits instead of hanging', async () => {
    stack = await startStack();
    const configFile = path.join(stack.dir, 'config.json');
    const config = (port: number) => JSON.stringify({ ...stack.config, http: { host: '127.0.0.1', port } });
    writeFileSync(configFile, config(0));
    const first = daemon(configFile);
    const deadline = Date.now() + 20_000;
    while (!first.output().includes('odoo-paylink is running') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(first.output()).toContain('odoo-paylink is running');

    const second = daemon(configFile);
    const code = await Promise.race([
      second.exit,
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 15_000)),
    ]);
    expect(code).toBe(78);
    expect(second.output()).toContain(`another odoo-paylink daemon uses`);
    expect(second.output()).toContain(`pid ${first.child.pid}`);
    expect(first.child.exitCode, 'the first one goes on').toBeNull();

    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
  }, 40_000);
});
