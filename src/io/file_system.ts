/**
 * A Node.js file-system IO handler that needs no @tensorflow/tfjs-node.
 *
 * It writes and reads the same layout as tfjs-node's `file://` handler: a directory holding
 * `model.json` (topology plus weights manifest) and `weights.bin` (all weights, concatenated).
 * On load it also accepts the multi-shard layout other tools write (several `*.bin` files listed
 * in the manifest), reading every listed file relative to model.json's directory.
 *
 * `fs` and `path` are only used inside `save()` / `load()`, never at import time, so a browser
 * bundle that includes this module but never calls it keeps working.
 */
import * as fs from 'fs';
import * as nodePath from 'path';
import * as tf from '@tensorflow/tfjs-core';

const MODEL_JSON_FILENAME = 'model.json';
const WEIGHTS_BINARY_FILENAME = 'weights.bin';

/** Bytes per stored value, as in tfjs-core's DTYPE_VALUE_SIZE_MAP (not exported from tf.io). */
const BYTES_PER_VALUE: Record<string, number> = {
  float32: 4,
  float16: 2,
  int32: 4,
  uint16: 2,
  uint8: 1,
  bool: 1,
  complex64: 8,
};

/**
 * An IOHandler that saves a model to, or loads it from, the directory `path` on the local file
 * system, in tfjs-node's `file://` format (`model.json` + `weights.bin`).
 *
 * - `save()` creates `path` (recursively) if it is missing.
 * - `load()` accepts the directory or the path of its `model.json`.
 *
 * ```ts
 * await model.save(fileSystem('/tmp/my-model'));
 * const loaded = await tf.loadLayersModel(fileSystem('/tmp/my-model'));
 * ```
 */
export function fileSystem(path: string): tf.io.IOHandler {
  if (typeof path !== 'string' || path.trim().length === 0) {
    throw new Error(`fileSystem(path): path must be a non-empty string naming a directory, got ${describe(path)}.`);
  }
  // Accept tfjs-node style 'file://' URLs for convenience.
  const dir = path.startsWith('file://') ? path.slice('file://'.length) : path;
  return {
    save: (modelArtifacts: tf.io.ModelArtifacts) => saveToDirectory(dir, modelArtifacts),
    load: () => loadFromPath(dir),
  };
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function nodeFs(op: 'save' | 'load'): typeof fs.promises {
  // Checked lazily: in a browser bundle `fs` resolves to an empty shim or undefined.
  const promises = (fs as { promises?: typeof fs.promises } | undefined)?.promises;
  if (promises == null || typeof nodePath?.join !== 'function') {
    throw new Error(
      `fileSystem().${op}() needs Node.js's 'fs' and 'path' modules, which are not available ` +
        `here. In a browser use tf.io.browserDownloads / tf.io.browserFiles, or 'indexeddb://' / ` +
        `'localstorage://' URLs instead.`,
    );
  }
  return promises;
}

function errorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e != null ? (e as { code?: string }).code : undefined;
}

async function statOrNull(fsp: typeof fs.promises, p: string): Promise<fs.Stats | null> {
  try {
    return await fsp.stat(p);
  } catch (e) {
    if (errorCode(e) === 'ENOENT' || errorCode(e) === 'ENOTDIR') return null;
    throw e;
  }
}

/** Copies a Node Buffer's bytes into a standalone ArrayBuffer (Buffers may share a pool). */
function toArrayBuffer(buf: Buffer): ArrayBuffer {
  const out = new ArrayBuffer(buf.byteLength);
  new Uint8Array(out).set(buf);
  return out;
}

// ---------------------------------------------------------------------------------------------
// save

async function saveToDirectory(dir: string, modelArtifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
  const fsp = nodeFs('save');
  if (modelArtifacts.modelTopology instanceof ArrayBuffer) {
    throw new Error(
      'fileSystem().save() does not support a binary (ArrayBuffer) model topology; only JSON ' +
        'topologies (as produced by tf.LayersModel / tf.GraphModel) can be written.',
    );
  }

  const stats = await statOrNull(fsp, dir);
  if (stats != null && !stats.isDirectory()) {
    throw new Error(
      `fileSystem().save(): '${dir}' is a file, not a directory. fileSystem(path) takes a ` +
        `directory, into which ${MODEL_JSON_FILENAME} and ${WEIGHTS_BINARY_FILENAME} are written: ` +
        `pass a directory path (it is created if missing), or remove the file.`,
    );
  }
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new Error(
      `fileSystem().save(): could not create directory '${dir}' (${(e as Error).message}). ` + `Check that no parent of it is a file and that it is writable.`,
    );
  }

  const weightSpecs = modelArtifacts.weightSpecs ?? [];
  const weightData: ArrayBuffer = modelArtifacts.weightData == null ? new ArrayBuffer(0) : tf.io.concatenateArrayBuffers(modelArtifacts.weightData);

  // Same keys, in the same order, as tfjs-node's NodeFileSystem (optional keys only when present).
  const modelJSON: tf.io.ModelJSON = {
    modelTopology: modelArtifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
    format: modelArtifacts.format,
    generatedBy: modelArtifacts.generatedBy,
    convertedBy: modelArtifacts.convertedBy,
    weightsManifest: [{ paths: [WEIGHTS_BINARY_FILENAME], weights: weightSpecs }],
  };
  if (modelArtifacts.trainingConfig != null) modelJSON.trainingConfig = modelArtifacts.trainingConfig;
  if (modelArtifacts.signature != null) modelJSON.signature = modelArtifacts.signature;
  if (modelArtifacts.userDefinedMetadata != null) {
    modelJSON.userDefinedMetadata = modelArtifacts.userDefinedMetadata;
  }
  if (modelArtifacts.modelInitializer != null) {
    modelJSON.modelInitializer = modelArtifacts.modelInitializer;
  }
  if (modelArtifacts.initializerSignature != null) {
    modelJSON.initializerSignature = modelArtifacts.initializerSignature;
  }

  await fsp.writeFile(nodePath.join(dir, MODEL_JSON_FILENAME), JSON.stringify(modelJSON), 'utf8');
  await fsp.writeFile(nodePath.join(dir, WEIGHTS_BINARY_FILENAME), new Uint8Array(weightData));

  return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(modelArtifacts) };
}

// ---------------------------------------------------------------------------------------------
// load

async function loadFromPath(path: string): Promise<tf.io.ModelArtifacts> {
  const fsp = nodeFs('load');
  const stats = await statOrNull(fsp, path);
  if (stats == null) {
    throw new Error(
      `fileSystem().load(): '${path}' does not exist. Pass the directory written by ` +
        `model.save(fileSystem(dir)) or the path of its ${MODEL_JSON_FILENAME}.`,
    );
  }
  const modelJSONPath = stats.isDirectory() ? nodePath.join(path, MODEL_JSON_FILENAME) : path;

  let text: string;
  try {
    text = await fsp.readFile(modelJSONPath, 'utf8');
  } catch (e) {
    if (errorCode(e) === 'ENOENT') {
      throw new Error(
        `fileSystem().load(): ${MODEL_JSON_FILENAME} not found: '${modelJSONPath}' does not ` +
          `exist. Save the model there first with model.save(fileSystem(dir)), or pass the ` +
          `directory (or ${MODEL_JSON_FILENAME} path) that holds it.`,
      );
    }
    throw e;
  }

  let modelJSON: tf.io.ModelJSON;
  try {
    modelJSON = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `fileSystem().load(): '${modelJSONPath}' is not valid JSON (${(e as Error).message}). It ` +
        `must be the ${MODEL_JSON_FILENAME} written by model.save(fileSystem(dir)); re-save the ` +
        `model or restore the file.`,
    );
  }
  if (
    modelJSON == null ||
    typeof modelJSON !== 'object' ||
    Array.isArray(modelJSON) ||
    (modelJSON.modelTopology == null && modelJSON.weightsManifest == null)
  ) {
    throw new Error(
      `fileSystem().load(): '${modelJSONPath}' is JSON but not a model.json: it has neither ` +
        `'modelTopology' nor 'weightsManifest'. Pass the ${MODEL_JSON_FILENAME} written by ` +
        `model.save(fileSystem(dir)).`,
    );
  }

  const baseDir = nodePath.dirname(modelJSONPath);
  return tf.io.getModelArtifactsForJSON(modelJSON, (manifest) => loadWeights(fsp, manifest, baseDir, modelJSONPath));
}

/**
 * The absolute path of a manifest's weights file, refusing any that is not inside the model's
 * directory: absolute paths, paths that climb out with '..', and (checked on the real paths)
 * symlinks that point elsewhere. A model directory from someone else must not make `load()` read
 * other files, and the message names neither the path nor whether such a file exists.
 */
async function insideModelDirectory(fsp: typeof fs.promises, baseDir: string, relPath: unknown, index: number, modelJSONPath: string): Promise<string> {
  const refuse = (): never => {
    throw new Error(
      `fileSystem().load(): weights path #${index} in the manifest of '${modelJSONPath}' is not a ` +
        `relative path inside the model's directory (absolute paths, '..' and symlinks leading out ` +
        `of it are refused). Weights files must sit next to ${MODEL_JSON_FILENAME}; re-save the ` +
        `model or fix its weightsManifest.`,
    );
  };
  if (typeof relPath !== 'string' || relPath.length === 0 || nodePath.isAbsolute(relPath) || /^[a-zA-Z]:|^[\\/]/.test(relPath)) refuse();
  const base = nodePath.resolve(baseDir);
  const full = nodePath.resolve(base, relPath as string);
  const within = (root: string, p: string): boolean => {
    const rel = nodePath.relative(root, p);
    return rel.length > 0 && !rel.startsWith('..') && !nodePath.isAbsolute(rel);
  };
  if (!within(base, full)) refuse();
  let real: string;
  try {
    real = await fsp.realpath(full);
  } catch {
    return full; // missing: reported by the caller, which names only the in-directory path
  }
  if (!within(await fsp.realpath(base), real)) refuse();
  return real;
}

/** Expected byte length of a manifest group's weights; null when it contains strings (variable). */
function expectedByteLength(specs: tf.io.WeightsManifestEntry[]): number | null {
  let total = 0;
  for (const spec of specs) {
    const dtype = spec.quantization != null ? spec.quantization.dtype : spec.dtype;
    const bytes = BYTES_PER_VALUE[dtype];
    if (bytes == null) return null; // 'string' or unknown: cannot be checked up front.
    total += spec.shape.reduce((a, b) => a * b, 1) * bytes;
  }
  return total;
}

async function loadWeights(
  fsp: typeof fs.promises,
  manifest: tf.io.WeightsManifestConfig,
  baseDir: string,
  modelJSONPath: string,
): Promise<[tf.io.WeightsManifestEntry[], ArrayBuffer]> {
  if (!Array.isArray(manifest)) {
    throw new Error(
      `fileSystem().load(): 'weightsManifest' in '${modelJSONPath}' must be an array of ` +
        `{ paths, weights } groups; the file is malformed — re-save the model.`,
    );
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest) {
    const groupBuffers: ArrayBuffer[] = [];
    for (const [index, relPath] of (group.paths ?? []).entries()) {
      const full = await insideModelDirectory(fsp, baseDir, relPath, index, modelJSONPath);
      let buf: Buffer;
      try {
        buf = await fsp.readFile(full);
      } catch (e) {
        if (errorCode(e) === 'ENOENT' || errorCode(e) === 'EISDIR') {
          throw new Error(
            `fileSystem().load(): weights file '${relPath}' listed in the manifest of ` +
              `'${modelJSONPath}' was not found at '${full}'. Copy it next to ` +
              `${MODEL_JSON_FILENAME} (paths are relative to its directory), or re-save the model.`,
          );
        }
        throw e;
      }
      groupBuffers.push(toArrayBuffer(buf));
    }
    const weights = group.weights ?? [];
    const actual = groupBuffers.reduce((a, b) => a + b.byteLength, 0);
    const expected = expectedByteLength(weights);
    if (expected != null && expected !== actual) {
      const files = (group.paths ?? []).map((p) => `'${p}'`).join(', ') || '(none)';
      throw new Error(
        `fileSystem().load(): weight data size mismatch in '${modelJSONPath}': the weight specs ` +
          `[${weights.map((w) => w.name).join(', ')}] need ${expected} bytes, but the weights ` +
          `file(s) ${files} hold ${actual} bytes. The weights files do not belong to this ` +
          `${MODEL_JSON_FILENAME} (or are truncated); re-save the model or restore the original files.`,
      );
    }
    specs.push(...weights);
    buffers.push(...groupBuffers);
  }
  return [specs, tf.io.concatenateArrayBuffers(buffers)];
}
