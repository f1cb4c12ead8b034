import { defineConfig } from 'vitest/config';

// Property tests run thousands of cases; under `npm test` they share two cores with the e2e
// suite, so the default 5 s per test is too tight.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
