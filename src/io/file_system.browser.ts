/**
 * The browser builds' stand-in for the Node file-system IO handler: bundlers for the browser
 * (webpack, vite, esbuild, rollup) get this module instead of `file_system.ts`, so the package never
 * imports Node's `fs` and `path` there. Calling it explains what to use instead.
 */
import * as tf from '@tensorflow/tfjs-core';

export function fileSystem(_path: string): tf.io.IOHandler {
  throw new Error(
    "fileSystem() saves to and loads from the local file system and needs Node.js; this is the package's browser build. " +
      "In a browser save with model.save('indexeddb://name') or 'downloads://name' and load with tf.loadLayersModel('indexeddb://name') or tf.io.browserFiles([...]).",
  );
}
