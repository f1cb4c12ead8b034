import { defineConfig } from 'vitest/config';

// Each test file starts its own registry:2 (and token server) on a free loopback port, so files
// can run in parallel; the generous hook timeout covers a first-time `apt-get install`.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    maxWorkers: 2,
    globalSetup: ['./src/global-setup.ts'],
  },
});
