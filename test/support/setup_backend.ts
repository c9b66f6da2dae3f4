/** Selects the tfjs backend for the whole suite: `cpu` by default, `TFJS_BACKEND=wasm` for wasm. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

const backend = process.env.TFJS_BACKEND ?? 'cpu';

// tfjs prints an advertisement for tfjs-node on first use in Node; keep test output readable.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]): void => {
  if (typeof args[0] === 'string' && args[0].includes('install our node backend')) return;
  warn(...args);
};

beforeAll(async () => {
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`Could not initialise the tfjs backend '${backend}'.`);
  await tf.ready();
});
