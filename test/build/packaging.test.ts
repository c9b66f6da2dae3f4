/**
 * The built package as an app sees it (dist/, through package.json's "exports"): a browser bundle
 * made by esbuild without configuration, and Node's import and require sharing one instance.
 * Builds dist/ first when it is missing or older than src/ (CI builds before testing).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function ensureBuilt(): void {
  const outputs = ['tfjs-neural-de.cjs.js', 'tfjs-neural-de.esm.mjs', 'tfjs-neural-de.node.mjs', 'tfjs-neural-de.umd.js'].map((f) =>
    path.join(ROOT, 'dist', f),
  );
  const oldest = Math.min(...outputs.map((f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0)));
  const inputs = Math.max(newestMtime(path.join(ROOT, 'src')), fs.statSync(path.join(ROOT, 'rollup.config.js')).mtimeMs);
  if (oldest < inputs) {
    execFileSync('npx', ['rollup', '-c'], { cwd: ROOT, stdio: 'pipe' });
    execFileSync(process.execPath, ['scripts/write-node-esm.js'], { cwd: ROOT, stdio: 'pipe' });
  }
}

/** A throwaway app directory whose node_modules holds this package and tfjs. */
function makeApp(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-neural-de-app-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'tfjs-neural-de'), 'dir');
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@tensorflow'), path.join(dir, 'node_modules', '@tensorflow'), 'dir');
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

beforeAll(() => ensureBuilt(), 180000);

test('a browser app bundles the package with esbuild and no configuration, without Node built-ins', async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const app = makeApp({
    'app.mjs': [
      "import * as tf from '@tensorflow/tfjs-core';",
      "import '@tensorflow/tfjs-backend-cpu';",
      "import * as tfl from '@tensorflow/tfjs-layers';",
      "import { neuralODE, errorEstimate, fileSystem } from 'tfjs-neural-de';",
      'const layer = neuralODE({ inputShape: [2], vectorField: [tfl.layers.dense({ units: 2 })], regularizers: [errorEstimate()] });',
      'globalThis.result = { layer: layer.getClassName(), fileSystem: typeof fileSystem };',
    ].join('\n'),
  });
  const result = await esbuild.build({
    entryPoints: [path.join(app, 'app.mjs')],
    bundle: true,
    platform: 'browser',
    write: false,
    logLevel: 'silent',
    metafile: true,
  });
  expect(result.errors).toEqual([]);
  const inputs = Object.keys(result.metafile!.inputs);
  expect(inputs.some((p) => p.endsWith('dist/tfjs-neural-de.esm.mjs'))).toBe(true);
  expect(inputs.some((p) => p.includes('file_system') || /(^|[\\/])(fs|path)$/.test(p))).toBe(false);
  const code = result.outputFiles[0].text;
  expect(code).not.toMatch(/require\(["'](fs|path|node:fs|node:path)["']\)/);
  // The bundle runs where there is no `require` and no Node module (like a page's script).
  const vm = await import('vm');
  const sandbox: Record<string, unknown> = {
    console: { log() {}, warn() {}, error() {} },
    setTimeout,
    clearTimeout,
    TextEncoder,
    TextDecoder,
    performance,
    navigator: { userAgent: 'test' },
  };
  sandbox.globalThis = sandbox;
  sandbox.window = sandbox;
  vm.runInNewContext(code, sandbox);
  expect(sandbox.result).toEqual({ layer: 'NeuralODE', fileSystem: 'function' });
}, 120000);

test('in Node, import and require give one instance: one NeuralODE class, callbacks see layers built with either', () => {
  const app = makeApp({
    'main.mjs': [
      "import { createRequire } from 'module';",
      "import * as tf from '@tensorflow/tfjs-core';",
      "import '@tensorflow/tfjs-backend-cpu';",
      "import * as tfl from '@tensorflow/tfjs-layers';",
      "import * as esm from 'tfjs-neural-de';",
      'const cjs = createRequire(import.meta.url)("tfjs-neural-de");',
      'await tf.setBackend("cpu");',
      'const model = tfl.sequential({ layers: [esm.neuralODE({ inputShape: [2], vectorField: [tfl.layers.dense({ units: 2 })] })] });',
      'const { nfe } = cjs.countNFE(model, () => tf.dispose(model.predict(tf.ones([1, 2]))));',
      'console.log(JSON.stringify({ same: esm.NeuralODE === cjs.NeuralODE, fileSystem: typeof esm.fileSystem, nfe }));',
    ].join('\n'),
  });
  const out = execFileSync(process.execPath, [path.join(app, 'main.mjs')], { cwd: app, encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop()!);
  expect(r.same).toBe(true);
  expect(r.fileSystem).toBe('function');
  expect(r.nfe).toBeGreaterThan(0);
}, 120000);
