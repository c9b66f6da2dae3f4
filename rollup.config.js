/**
 * Bundles src/index.ts into dist/:
 * - CommonJS (.cjs.js): the Node build. Node's `import` gets a thin ES-module wrapper around it
 *   (.node.mjs, written by scripts/write-node-esm.js), so an app that both imports and requires the
 *   package shares one copy of every class and registration (no dual-package hazard).
 * - ESM (.esm.mjs) and UMD (.umd.js): the browser builds, for bundlers and <script> tags. They
 *   replace the Node file-system IO handler by a stub, so nothing imports `fs` or `path`.
 * Type declarations are emitted separately by `tsc -p tsconfig.build.json` (see "build" in package.json).
 *
 * Written as CommonJS because package.json has no "type": "module" and Node loads this file natively.
 */
const path = require('path');
const typescript = require('@rollup/plugin-typescript');
const { nodeResolve } = require('@rollup/plugin-node-resolve');
const { builtinModules } = require('module');

const pkg = require('./package.json');

/**
 * Every @tensorflow/* package (and subpath) is a peer dependency: never bundle it. Node built-ins
 * (`fs`, `node:path`, ...) are left as imports too.
 */
const external = (id) => id === '@tensorflow' || id.startsWith('@tensorflow/') || id.startsWith('node:') || builtinModules.includes(id);

/** UMD globals: tfjs's UMD builds all expose themselves as the global `tf`. */
const globals = {
  '@tensorflow/tfjs-core': 'tf',
  '@tensorflow/tfjs-layers': 'tf',
};

const banner = `/** ${pkg.name} v${pkg.version} | ${pkg.license} */`;

/** Resolves the Node-only IO module to its browser stub. */
const browserIO = {
  name: 'browser-io',
  resolveId(source, importer) {
    if (importer && /[\\/]io[\\/]file_system$/.test(path.resolve(path.dirname(importer), source))) {
      return path.resolve(__dirname, 'src/io/file_system.browser.ts');
    }
    return null;
  },
};

const plugins = (extra) => [
  ...extra,
  nodeResolve({ extensions: ['.ts', '.js'] }),
  typescript({
    tsconfig: './tsconfig.json',
    // Only the library sources; test/, bench/ and demos/ are checked by `npm run typecheck`.
    include: ['src/**/*.ts'],
    compilerOptions: {
      declaration: false,
      declarationMap: false,
      noEmit: false,
      sourceMap: true,
      types: ['node'],
    },
  }),
];

module.exports = [
  {
    input: 'src/index.ts',
    external,
    plugins: plugins([]),
    output: [{ file: pkg.main, format: 'cjs', sourcemap: true, exports: 'named', banner }],
  },
  {
    input: 'src/index.ts',
    external,
    plugins: plugins([browserIO]),
    output: [
      { file: pkg.module, format: 'es', sourcemap: true, banner },
      { file: pkg.browser, format: 'umd', name: 'tfNeuralDE', globals, sourcemap: true, exports: 'named', banner },
    ],
  },
];
