/**
 * Writes dist/tfjs-neural-de.node.mjs: Node's ES-module entry point, which re-exports the CommonJS
 * build instead of being a second copy of the library. Run after rollup (see "build" in package.json).
 */
const fs = require('fs');
const path = require('path');
const pkg = require('../package.json');

const cjsFile = path.resolve(__dirname, '..', pkg.main);
const names = Object.keys(require(cjsFile)).filter((n) => n !== 'default' && n !== '__esModule');
const out = path.resolve(__dirname, '..', 'dist', 'tfjs-neural-de.node.mjs');
const text = [
  `/** ${pkg.name} v${pkg.version}: Node ES-module entry; re-exports the CommonJS build so both share one instance. */`,
  `import cjs from './${path.basename(cjsFile)}';`,
  '',
  `export const { ${names.join(', ')} } = cjs;`,
  'export default cjs;',
  '',
].join('\n');
fs.writeFileSync(out, text);
console.log(`wrote ${path.relative(process.cwd(), out)} (${names.length} exports)`);
