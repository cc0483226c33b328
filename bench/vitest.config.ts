import { defineConfig } from 'vitest/config';

// The harness's own unit tests (parsers, config rendering, PKI, report rendering). They are fast and
// take no timings: `vitest run --config bench/vitest.config.ts`.
export default defineConfig({
  test: {
    include: ['bench/**/*.test.ts'],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
