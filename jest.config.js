// Jest on Node 20 cannot require() ESM, and every Nest 12 package (plus jose,
// oidc-provider and @apidevtools/json-schema-ref-parser) is ESM-only: @swc/jest transpiles them to CommonJS on the way in.
// `ts` comes first in moduleFileExtensions so stale .js files never shadow sources.
const swcTs = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2023',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};
const swcJs = { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2023' }, module: { type: 'commonjs' } };

const common = {
  moduleFileExtensions: ['ts', 'js', 'json'],
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', swcTs], '^.+\\.m?js$': ['@swc/jest', swcJs] },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|@apidevtools|jose|file-type|load-esm|oidc-provider)/)'],
  moduleNameMapper: {
    '^@portico/mcp-core(|/.*)$': '<rootDir>/libs/mcp-core/src$1',
    '^@portico/openproject-client(|/.*)$': '<rootDir>/libs/openproject-client/src$1',
    '^src/(.*)$': '<rootDir>/src/$1',
    // A tool module shipped as its own package, compiled with the app (docs/extending.md).
    '^@portico-examples/weather$': '<rootDir>/examples/weather-module/src',
  },
};

module.exports = {
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', testRegex: '(src|libs)/.*\\.spec\\.ts$' },
    {
      ...common,
      displayName: 'integration',
      testRegex: 'test/integration/.*\\.spec\\.ts$',
      globalSetup: '<rootDir>/test/global-setup.ts',
    },
    {
      ...common,
      displayName: 'e2e',
      testRegex: 'test/e2e/.*\\.e2e-spec\\.ts$',
      globalSetup: '<rootDir>/test/global-setup.ts',
    },
    {
      ...common,
      displayName: 'hostile',
      testRegex: 'test/hostile/.*\\.spec\\.ts$',
      globalSetup: '<rootDir>/test/global-setup.ts',
    },
  ],
};
