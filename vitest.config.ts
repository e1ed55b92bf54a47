import { defineConfig } from 'vitest/config';

// Four groups, run one after the other: everything in-process first (in parallel), then the
// suites that spawn the built daemon, then the README start command, which rebuilds dist/ and so
// must not run while another test starts dist/cli.js, then the daemon under a real PM2.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit-integration',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          // The benchmark is `npm run bench`, never part of `npm test`.
          exclude: ['test/crash/**', 'test/processes/**', 'test/e2e/**', 'test/bench/**', 'node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'processes',
          include: ['test/crash/**/*.test.ts', 'test/processes/**/*.test.ts'],
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: ['test/e2e/pm2.test.ts'],
          sequence: { groupOrder: 2 },
        },
      },
      // Last, alone: it runs dist/ under PM2, which the README start command above rebuilds.
      {
        extends: true,
        test: { name: 'pm2', include: ['test/e2e/pm2.test.ts'], sequence: { groupOrder: 3 } },
      },
    ],
  },
});
