/**
 * The peer benchmarks' side (`../shared/peers/`, torchdiffeq and torchsde): their portable
 * randomness ported bit for bit (Mulberry32, Box–Muller normals, sampling without replacement,
 * PyTorch-style Linear initialisation, `param_fingerprint`), and a runner for their scripts.
 *
 * Where the peers are: the scripts in `PEER_DIR` (default `../shared/peers` beside this repository, the
 * workplace layout), the packages in `PEER_TORCHDIFFEQ` / `PEER_TORCHSDE` (directories holding the
 * `torchdiffeq` / `torchsde` package folders; default `PEER_DIR/vendor`), the interpreter in `PYTHON`
 * (default /usr/bin/python3, where Debian's python3-torch installs). A peer whose scripts or package are
 * missing is skipped with a message saying which variable to set; one that fails says why.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from '../src/noise/prng';

/** The folder of the peer scripts (node_spiral.py, sde_spiral.py, ...). */
export const PEER_DIR = path.resolve(process.env.PEER_DIR ?? path.join(__dirname, '..', '..', 'shared', 'peers'));

/** mulberry32, as in _common.py (the package's own copy, bit-identical to the Python port). */
export { mulberry32 };

/** `Mulberry32.normal`: Box–Muller, cosine branch only, two uniforms per draw. */
export function normal(rng: () => number): number {
  const u1 = 1 - rng();
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** `Mulberry32.sample_without_replacement(n, k)`: a partial Fisher–Yates shuffle of 0..n-1. */
export function sampleWithoutReplacement(rng: () => number, n: number, k: number): number[] {
  const arr = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng() * (n - i));
    [arr[i], arr[j]] = [arr[j], arr[i]];
  }
  return arr.slice(0, k);
}

/** One nn.Linear(in, out) in PyTorch's layout: weight (out, in) row-major, float32-rounded. */
export interface Linear {
  inF: number;
  outF: number;
  weight: number[];
  bias: number[];
}

/** `init_linear_uniform`: weight then bias ~ U(±1/√fan_in). */
export function linearUniform(rng: () => number, inF: number, outF: number): Linear {
  const b = 1 / Math.sqrt(inF);
  const draw = (n: number): number[] => Array.from({ length: n }, () => Math.fround(-b + 2 * b * rng()));
  const weight = draw(outF * inF);
  return { inF, outF, weight, bias: draw(outF) };
}

/** `init_linear_normal`: weight ~ N(0, std²), bias constant. */
export function linearNormal(rng: () => number, inF: number, outF: number, std: number, bias = 0): Linear {
  const weight = Array.from({ length: outF * inF }, () => Math.fround(std * normal(rng)));
  return { inF, outF, weight, bias: new Array<number>(outF).fill(bias) };
}

/** tfjs dense weights [kernel (in, out), bias] from a PyTorch-layout Linear. */
export function denseWeights(l: Linear): tf.Tensor[] {
  const k = new Float32Array(l.inF * l.outF);
  for (let o = 0; o < l.outF; o++) for (let i = 0; i < l.inF; i++) k[i * l.outF + o] = l.weight[o * l.inF + i];
  return [tf.tensor2d(k, [l.inF, l.outF]), tf.tensor1d(l.bias)];
}

/** `r(x, digits)` of _common.py: round to `digits` significant digits. */
function sig(x: number, digits: number): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(digits));
}

export interface Fingerprint {
  n_params: number;
  sum: number;
  sum_abs: number;
  first: number[];
}

/** `param_fingerprint` of _common.py over the parameters in module order (l1.W, l1.b, l2.W, ...). */
export function fingerprint(lins: readonly Linear[]): Fingerprint {
  const flat = lins.flatMap((l) => [...l.weight, ...l.bias]);
  const sum = (xs: number[]): number => xs.reduce((s, v) => s + v, 0);
  return {
    n_params: flat.length,
    sum: sig(sum(flat), 10),
    sum_abs: sig(sum(flat.map(Math.abs)), 10),
    first: flat.slice(0, 3).map((v) => sig(v, 8)),
  };
}

const PEER_PACKAGE = { PEER_TORCHDIFFEQ: 'torchdiffeq', PEER_TORCHSDE: 'torchsde' } as const;

/**
 * Whether the peer named by `envVar` can run: its scripts in PEER_DIR and its package folder in
 * `$envVar` (default PEER_DIR/vendor, exported to the peer scripts). Prints why not, naming the fix.
 */
export function peerAvailable(envVar: keyof typeof PEER_PACKAGE): boolean {
  const pkg = PEER_PACKAGE[envVar];
  if (!fs.existsSync(path.join(PEER_DIR, '_common.py'))) {
    console.log(`(${pkg} side skipped: no peer scripts in ${PEER_DIR}; set PEER_DIR to the folder holding _common.py)`);
    return false;
  }
  const dir = path.resolve(process.env[envVar] ?? path.join(PEER_DIR, 'vendor'));
  if (!fs.existsSync(path.join(dir, pkg))) {
    console.log(`(${pkg} side skipped: no ${pkg} package folder in ${dir}; set ${envVar} to the directory that contains it)`);
    return false;
  }
  const python = process.env.PYTHON ?? '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    console.log(`(${pkg} side skipped: ${python} cannot import torch; apt-get install python3-torch, or set PYTHON to an interpreter that has it)`);
    return false;
  }
  process.env[envVar] = dir;
  return true;
}

/** Runs `script args` in PEER_DIR and returns its last JSON line, parsed. */
export function runPeerScript<T>(script: string, args: readonly string[]): T {
  const python = process.env.PYTHON ?? '/usr/bin/python3';
  const r = spawnSync(python, [script, ...args], { cwd: PEER_DIR, encoding: 'utf8', env: process.env, maxBuffer: 1 << 26 });
  if (r.error)
    throw new Error(`peer could not start (${python} ${script}): ${r.error.message}; set PYTHON to an interpreter with torch (apt-get install python3-torch).`);
  if (r.status !== 0) {
    const why = r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
    throw new Error(`peer failed, ${why} (${python} ${script} ${args.join(' ')}):\n${r.stderr || r.stdout}`);
  }
  const line = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) throw new Error(`peer printed no JSON line:\n${r.stdout}`);
  return JSON.parse(line) as T;
}
