/**
 * Picks the fastest tfjs backend available to a demo or benchmark: tfjs-node when the user has it
 * installed (optional peer dependency), otherwise wasm, otherwise the pure-JS cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

export async function chooseBackend(requested?: string): Promise<string> {
  if (!requested || requested === 'tensorflow' || requested === 'node') {
    try {
      // Optional: present only where the user installed @tensorflow/tfjs-node.
      await import(/* webpackIgnore: true */ '@tensorflow/tfjs-node' as string);
    } catch {
      if (requested === 'tensorflow' || requested === 'node') {
        throw new Error('The tensorflow backend needs @tensorflow/tfjs-node (npm install @tensorflow/tfjs-node); use --backend wasm or cpu.');
      }
    }
  }
  const order = requested && requested !== 'node' ? [requested] : ['tensorflow', 'wasm', 'cpu'];
  for (const name of order) {
    if (tf.findBackendFactory(name) && (await tf.setBackend(name))) {
      await tf.ready();
      return name;
    }
  }
  throw new Error(`Backend '${requested}' is not available: use tensorflow (needs @tensorflow/tfjs-node), wasm or cpu.`);
}
