/**
 * Bundles src/index.ts into dist/ as ESM (.mjs), CommonJS (.cjs.js) and UMD (.umd.js).
 * Type declarations are emitted separately by `tsc -p tsconfig.build.json` (see "build" in package.json).
 *
 * Written as CommonJS because package.json has no "type": "module" and Node loads this file natively.
 */
const typescript = require('@rollup/plugin-typescript');
const { nodeResolve } = require('@rollup/plugin-node-resolve');
const { builtinModules } = require('module');

const pkg = require('./package.json');

/**
 * Every @tensorflow/* package (and subpath) is a peer dependency: never bundle it. Node built-ins
 * (`fs`, `node:path`, ...) are left as imports too.
 */
const external = (id) =>
  id === '@tensorflow' || id.startsWith('@tensorflow/') || id.startsWith('node:') || builtinModules.includes(id);

/** UMD globals: tfjs's UMD builds all expose themselves as the global `tf`. */
const globals = {
  '@tensorflow/tfjs-core': 'tf',
  '@tensorflow/tfjs-layers': 'tf',
};

const banner = `/** ${pkg.name} v${pkg.version} | ${pkg.license} */`;

module.exports = {
  input: 'src/index.ts',
  external,
  plugins: [
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
  ],
  output: [
    { file: pkg.module, format: 'es', sourcemap: true, banner },
    { file: pkg.main, format: 'cjs', sourcemap: true, exports: 'named', banner },
    {
      file: pkg.browser,
      format: 'umd',
      name: 'tfNeuralDE',
      globals,
      sourcemap: true,
      exports: 'named',
      banner,
    },
  ],
};
