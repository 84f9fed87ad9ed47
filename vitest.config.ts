import { defineConfig } from 'vitest/config';

// Two suites: `unit` (beside the code, no binaries, no processes) and `integration` (test/,
// real processes on 127.0.0.1 with random ports; runs against the built packages).
export default defineConfig({
  test: {
    globals: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{proto,coordinator,worker,cli}/src/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
