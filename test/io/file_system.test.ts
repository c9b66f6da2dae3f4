import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { fileSystem } from '../../src/io/file_system';
import { maxAbsDiff } from '../support/helpers';

/** dense 3->4 relu -> dense 2, with fixed layer names so the weight names are predictable. */
function makeModel(): tfl.Sequential {
  const model = tfl.sequential();
  model.add(tfl.layers.dense({ name: 'd1', inputShape: [3], units: 4, activation: 'relu' }));
  model.add(tfl.layers.dense({ name: 'd2', units: 2 }));
  return model;
}

const EXPECTED_SPECS = [
  { name: 'd1/kernel', shape: [3, 4], dtype: 'float32' },
  { name: 'd1/bias', shape: [4], dtype: 'float32' },
  { name: 'd2/kernel', shape: [4, 2], dtype: 'float32' },
  { name: 'd2/bias', shape: [2], dtype: 'float32' },
];
const EXPECTED_BYTES = (12 + 4 + 8 + 2) * 4;

const INPUT = [
  [0.1, -0.2, 0.3],
  [1.5, 0.25, -2],
  [-0.7, 0.9, 0.05],
];

function predict(model: tfl.LayersModel): number[] {
  return tf.tidy(() => {
    const y = model.predict(tf.tensor2d(INPUT)) as tf.Tensor;
    return Array.from(y.dataSync());
  });
}

// model.json is arbitrary JSON that the tests edit freely
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function readModelJSON(dir: string): Record<string, any> {
  return JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
}

function writeModelJSON(dir: string, json: unknown): void {
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
}

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-neural-de-fs-'));
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

let counter = 0;
function freshDir(): string {
  return path.join(root, `case-${counter++}`);
}

/** Saves a fresh model into `dir`; returns its predictions on INPUT (the model is disposed). */
async function saveFresh(dir: string): Promise<number[]> {
  const model = makeModel();
  try {
    await model.save(fileSystem(dir));
    return predict(model);
  } finally {
    model.dispose();
  }
}

async function loadAndPredict(p: string): Promise<number[]> {
  const loaded = await tfl.loadLayersModel(fileSystem(p));
  try {
    return predict(loaded);
  } finally {
    loaded.dispose();
  }
}

/** The keys of tfjs-node's model.json, in its order, when no optional key is present. */
const BASE_KEYS = ['modelTopology', 'format', 'generatedBy', 'convertedBy', 'weightsManifest'];

describe('fileSystem IO handler: save', () => {
  it('writes model.json + weights.bin in the tfjs-node format and round-trips exactly', async () => {
    const before = tf.memory().numTensors;
    const dir = path.join(freshDir(), 'nested', 'deeper'); // created recursively
    const model = makeModel();
    const result = await model.save(fileSystem(dir));
    const expected = predict(model);
    model.dispose();

    expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const json = readModelJSON(dir);
    expect(Object.keys(json)).toEqual(BASE_KEYS);
    expect(json.format).toBe('layers-model');
    expect(json.generatedBy).toMatch(/^TensorFlow\.js tfjs-layers v/);
    expect(json.convertedBy).toBeNull();
    expect(json.modelTopology.class_name).toBe('Sequential');
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(json.weightsManifest[0].weights).toEqual(EXPECTED_SPECS);
    expect(fs.statSync(path.join(dir, 'weights.bin')).size).toBe(EXPECTED_BYTES);

    expect(result.modelArtifactsInfo.modelTopologyType).toBe('JSON');
    expect(result.modelArtifactsInfo.weightDataBytes).toBe(EXPECTED_BYTES);
    expect(result.modelArtifactsInfo.modelTopologyBytes).toBeGreaterThan(0);

    const actual = await loadAndPredict(dir);
    expect(maxAbsDiff(actual, expected)).toBe(0);
    // Loading through the model.json path works too.
    expect(maxAbsDiff(await loadAndPredict(path.join(dir, 'model.json')), expected)).toBe(0);

    expect(tf.memory().numTensors).toBe(before);
  });

  it('includes trainingConfig and userDefinedMetadata only when present', async () => {
    const dir = freshDir();
    const model = makeModel();
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    model.setUserDefinedMetadata({ note: 'hello' });
    await model.save(fileSystem(dir), { includeOptimizer: true });
    const expected = predict(model);
    model.dispose();
    const json = readModelJSON(dir);
    expect(Object.keys(json)).toEqual([...BASE_KEYS, 'trainingConfig', 'userDefinedMetadata']);
    expect(json.trainingConfig.loss).toBe('mean_squared_error');
    expect(json.userDefinedMetadata).toEqual({ note: 'hello' });

    const loaded = await tfl.loadLayersModel(fileSystem(dir));
    expect(loaded.getUserDefinedMetadata()).toEqual({ note: 'hello' });
    expect(loaded.optimizer).toBeDefined();
    expect(maxAbsDiff(predict(loaded), expected)).toBe(0);
    loaded.optimizer.dispose();
    loaded.dispose();
  });

  it('accepts weightData as an array of ArrayBuffers and concatenates it', async () => {
    const dir = freshDir();
    const a = new Float32Array([1, 2, 3]);
    const b = new Float32Array([4, 5]);
    const handler = fileSystem(dir);
    const result = await handler.save!({
      modelTopology: { some: 'topology' },
      format: 'layers-model',
      generatedBy: 'test',
      convertedBy: null,
      weightSpecs: [
        { name: 'a', shape: [3], dtype: 'float32' },
        { name: 'b', shape: [2], dtype: 'float32' },
      ],
      weightData: [a.buffer, b.buffer],
    });
    expect(result.modelArtifactsInfo.weightDataBytes).toBe(20);
    const bin = fs.readFileSync(path.join(dir, 'weights.bin'));
    expect(Array.from(new Float32Array(bin.buffer, bin.byteOffset, 5))).toEqual([1, 2, 3, 4, 5]);

    const artifacts = await handler.load!();
    expect(artifacts.weightSpecs!.map((s) => s.name)).toEqual(['a', 'b']);
    expect(Array.from(new Float32Array(artifacts.weightData as ArrayBuffer))).toEqual([1, 2, 3, 4, 5]);
    expect(artifacts.modelTopology).toEqual({ some: 'topology' });
  });

  it('rejects a path that is a file, naming the fix', async () => {
    const file = path.join(root, `a-file-${counter++}`);
    fs.writeFileSync(file, 'not a directory');
    const model = makeModel();
    try {
      await expect(model.save(fileSystem(file))).rejects.toThrow(/is a file, not a directory.*pass a directory path/);
    } finally {
      model.dispose();
    }
  });

  it('rejects an empty path', () => {
    expect(() => fileSystem('')).toThrow(/non-empty string/);
  });
});

describe('fileSystem IO handler: load', () => {
  it('loads a multi-shard directory (weights split across two files)', async () => {
    const before = tf.memory().numTensors;
    const dir = freshDir();
    const expected = await saveFresh(dir);

    const bin = fs.readFileSync(path.join(dir, 'weights.bin'));
    const cut = 30; // deliberately not on a weight or float boundary
    fs.writeFileSync(path.join(dir, 'group1-shard1of2.bin'), bin.subarray(0, cut));
    fs.writeFileSync(path.join(dir, 'group1-shard2of2.bin'), bin.subarray(cut));
    fs.unlinkSync(path.join(dir, 'weights.bin'));
    const json = readModelJSON(dir);
    json.weightsManifest[0].paths = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
    writeModelJSON(dir, json);

    expect(maxAbsDiff(await loadAndPredict(dir), expected)).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads a manifest with several groups, each in its own subdirectory-relative file', async () => {
    const dir = freshDir();
    const expected = await saveFresh(dir);

    const bin = fs.readFileSync(path.join(dir, 'weights.bin'));
    const json = readModelJSON(dir);
    const specs = json.weightsManifest[0].weights as typeof EXPECTED_SPECS;
    fs.mkdirSync(path.join(dir, 'shards'));
    const groups: Array<{ paths: string[]; weights: unknown[] }> = [];
    let offset = 0;
    specs.forEach((spec, i) => {
      const bytes = spec.shape.reduce((a, b) => a * b, 1) * 4;
      const rel = `shards/group${i + 1}-shard1of1.bin`;
      fs.writeFileSync(path.join(dir, rel), bin.subarray(offset, offset + bytes));
      groups.push({ paths: [rel], weights: [spec] });
      offset += bytes;
    });
    fs.unlinkSync(path.join(dir, 'weights.bin'));
    json.weightsManifest = groups;
    writeModelJSON(dir, json);

    expect(maxAbsDiff(await loadAndPredict(path.join(dir, 'model.json')), expected)).toBe(0);
  });

  it('fails clearly when the path does not exist', async () => {
    const missing = path.join(root, 'does-not-exist');
    await expect(tfl.loadLayersModel(fileSystem(missing))).rejects.toThrow(/does-not-exist' does not exist\. Pass the directory/);
  });

  it('fails clearly when model.json is missing', async () => {
    const dir = freshDir();
    fs.mkdirSync(dir);
    await expect(tfl.loadLayersModel(fileSystem(dir))).rejects.toThrow(/model\.json not found: .*model\.json' does not exist\. Save the model there first/);
  });

  it('fails clearly when model.json is not JSON', async () => {
    const dir = freshDir();
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'model.json'), '{ this is not json');
    await expect(tfl.loadLayersModel(fileSystem(dir))).rejects.toThrow(/model\.json' is not valid JSON .*re-save the model/);
  });

  it('fails clearly when model.json is JSON but not a model', async () => {
    const dir = freshDir();
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'model.json'), '{"hello": 1}');
    await expect(tfl.loadLayersModel(fileSystem(dir))).rejects.toThrow(/neither 'modelTopology' nor 'weightsManifest'/);
  });

  it('fails clearly, naming the file, when a weights file is missing', async () => {
    const before = tf.memory().numTensors;
    const dir = freshDir();
    await saveFresh(dir);
    fs.unlinkSync(path.join(dir, 'weights.bin'));
    await expect(tfl.loadLayersModel(fileSystem(dir))).rejects.toThrow(
      /weights file 'weights\.bin' listed in the manifest of .* was not found at .*Copy it next to model\.json/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fails clearly, with expected vs actual bytes, when the weights size is wrong', async () => {
    const before = tf.memory().numTensors;
    const dir = freshDir();
    await saveFresh(dir);
    const binPath = path.join(dir, 'weights.bin');
    fs.writeFileSync(binPath, fs.readFileSync(binPath).subarray(0, EXPECTED_BYTES - 4));
    await expect(tfl.loadLayersModel(fileSystem(dir))).rejects.toThrow(
      new RegExp(`weight data size mismatch .*need ${EXPECTED_BYTES} bytes, but the weights file\\(s\\) ` + `'weights\\.bin' hold ${EXPECTED_BYTES - 4} bytes`),
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('fileSystem IO handler: a model directory from someone else', () => {
  /** A saved model whose manifest names `paths` instead of weights.bin, and a secret file beside its directory. */
  async function hostileModel(paths: (dir: string, secret: string) => string[]): Promise<{ dir: string; secret: string }> {
    const dir = freshDir();
    await saveFresh(dir);
    const secret = path.join(root, `secret-${counter++}.bin`);
    fs.copyFileSync(path.join(dir, 'weights.bin'), secret); // the right size: reading it would "work"
    const json = readModelJSON(dir);
    json.weightsManifest[0].paths = paths(dir, secret);
    writeModelJSON(dir, json);
    return { dir, secret };
  }

  it.each([
    ['a parent-relative path', (_d: string, secret: string) => [`../${path.basename(secret)}`]],
    ['an absolute path', (_d: string, secret: string) => [secret]],
    ['a path that climbs out and back in', (d: string, secret: string) => [`sub/../../${path.basename(d)}/../${path.basename(secret)}`]],
  ])('refuses %s, without naming it or revealing whether it exists', async (_what, paths) => {
    const before = tf.memory().numTensors;
    const { dir, secret } = await hostileModel(paths);
    const err = await tfl.loadLayersModel(fileSystem(dir)).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).not.toBeNull();
    expect(err!.message).toMatch(/weights path #0 in the manifest of .* is not a relative path inside the model's directory/);
    expect(err!.message).not.toContain(path.basename(secret));
    // the same message whether or not the outside file exists
    fs.unlinkSync(secret);
    const err2 = await tfl.loadLayersModel(fileSystem(dir)).then(
      () => null,
      (e: Error) => e,
    );
    expect(err2!.message).toBe(err!.message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a symlink inside the directory that points outside it', async () => {
    const dir = freshDir();
    await saveFresh(dir);
    const secret = path.join(root, `secret-${counter++}.bin`);
    fs.renameSync(path.join(dir, 'weights.bin'), secret);
    fs.symlinkSync(secret, path.join(dir, 'weights.bin'));
    await expect(tfl.loadLayersModel(fileSystem(dir))).rejects.toThrow(/weights path #0 .* not a relative path inside the model's directory/);
  });

  it('still loads weights in a subdirectory of the model directory', async () => {
    const dir = freshDir();
    const expected = await saveFresh(dir);
    fs.mkdirSync(path.join(dir, 'shards'));
    fs.renameSync(path.join(dir, 'weights.bin'), path.join(dir, 'shards', 'w.bin'));
    const json = readModelJSON(dir);
    json.weightsManifest[0].paths = ['shards/w.bin'];
    writeModelJSON(dir, json);
    expect(maxAbsDiff(await loadAndPredict(dir), expected)).toBe(0);
  });
});
