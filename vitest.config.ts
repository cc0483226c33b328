import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{core,ca,sidecar,operator,cli,demo,dashboard,bench,test}/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
