/**
 * Two suites, one config:
 * - `npm test`: the unit tests (test/ mirrors src/: the test of src/layers/neural_sde.ts is
 *   test/layers/neural_sde.test.ts), on the pure-JS `cpu` backend; `TFJS_BACKEND=wasm npm test` on `wasm`.
 * - `npm run test:integration` (JEST_SUITE=integration): the demos (test/demos), the built package
 *   (test/build, needs `npm run build`) and the README's examples and generated tables (test/docs).
 * ts-jest only transpiles (isolatedModules, in tsconfig.jest.json): types are checked once by `npm run typecheck`, not per file.
 */
const INTEGRATION = ['<rootDir>/test/demos/', '<rootDir>/test/build/', '<rootDir>/test/docs/'];
const integration = process.env.JEST_SUITE === 'integration';

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  setupFilesAfterEnv: ['<rootDir>/test/support/setup_backend.ts'],
  testTimeout: 120000,
  // jest's default leaves one core idle (cores − 1 workers: one worker on a 2-core machine); the tests are CPU-bound.
  maxWorkers: '100%',
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/browser/', ...(integration ? [] : INTEGRATION)],
  ...(integration ? { testMatch: INTEGRATION.map((d) => `${d}**/*.test.ts`) } : {}),
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
};
