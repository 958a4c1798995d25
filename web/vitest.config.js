import { defineConfig } from 'vitest/config';

// Two projects: `unit` (vectors, memory, ProgressClient and React with fakes; fast, no server)
// and `e2e` (real Chromium against the real server binary). `npm test` runs both.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.js'],
          exclude: ['test/e2e/**'],
          environment: 'node',
          // Not a speed check: a 6 MiB frame through the wasm heap must not fail on a loaded CI box.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.js'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // One Chromium and one server at a time: the machine has two cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
