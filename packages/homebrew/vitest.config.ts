import { defineConfig } from 'vitest/config';

// Pure functions only, but the property tests run many cases: allow for a loaded machine.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
