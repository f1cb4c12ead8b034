import { defineConfig } from 'vitest/config';

// These tests write files and talk to loopback servers; under `npm test` they share two cores with
// the e2e suite, so the default 5 s per test is too tight for the property tests.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
