/**
 * Brownian paths on the host: the cost of a standard normal (Philox4x32-10 + ziggurat), and the virtual
 * Brownian tree against the sequential sampler (`BrownianInterval`) on the queries of a simulated adaptive solve
 * (steps near 0.01 of the span, about 10% of attempts rejected and retried at half the step): normals drawn per
 * state element per attempted step, µs per query at n = 128 and n = 163,840 (the MNIST NSDE's 512 × 32 state ×
 * 10 paths), and the node memory each holds. No tfjs: the backend option does not apply.
 */
import { BrownianTree } from '../src/noise/brownian';
import { BrownianInterval } from '../src/noise/brownian_interval';
import { BrownianPath } from '../src/noise/path';
import { CounterRNG, PhiloxEngine } from '../src/noise/prng';
import { adaptiveSchedule } from '../test/support/adaptive_schedule';
import { BenchOptions, fmt, median, now, printTable } from './util';

const SIZES = [128, 163840];
const MB = 2 ** 20;

/** Best ns per normal of `CounterRNG.fillNormal` over `reps` fills of 2^14 normals. */
function nsPerNormal(reps: number, engine: PhiloxEngine): number {
  const rng = new CounterRNG(1, engine);
  const z = new Float64Array(1 << 14);
  let best = Infinity;
  for (let k = 0; k < reps; k++) {
    const t0 = now();
    rng.fillNormal(z, [k, 0, 0]);
    best = Math.min(best, ((now() - t0) * 1e6) / z.length);
  }
  return best;
}

interface PathRun {
  normalsPerElementPerAttempt: number;
  usPerQuery: number[];
  nodeBytes: number;
}

/** Runs the first `count` attempts on fresh paths `rounds` times; times exclude building the path. */
function runPath(make: () => BrownianPath, bytes: (p: BrownianPath) => number, attempts: [number, number][], count: number, rounds: number): PathRun {
  const us: number[] = [];
  let perAttempt = 0;
  let nodeBytes = 0;
  for (let r = 0; r < rounds; r++) {
    const p = make();
    const dW = new Float64Array(p.size);
    const H = new Float64Array(p.size);
    const before = p.normalsDrawn;
    const t0 = now();
    for (let k = 0; k < count; k++) p.incrementInto(attempts[k][0], attempts[k][1], dW, H);
    us.push(((now() - t0) * 1e3) / count);
    perAttempt = (p.normalsDrawn - before) / (p.size * count);
    nodeBytes = bytes(p);
  }
  return { normalsPerElementPerAttempt: perAttempt, usPerQuery: us, nodeBytes };
}

/** After a forward pass over `attempts`, queries the accepted ones again from last to first (n = 128). */
function reverseWalk(attempts: [number, number][], accepted: boolean[], rounds: number): { normalsPerElement: number; us: number } {
  const steps = attempts.filter((_, k) => accepted[k]);
  const us: number[] = [];
  let normals = 0;
  for (let r = 0; r < rounds; r++) {
    const p = new BrownianInterval({ seed: 1, t0: 0, t1: 1, shape: [128] });
    for (const [s, u] of attempts) p.increment(s, u);
    const before = p.normalsDrawn;
    const t0 = now();
    for (let k = steps.length - 1; k >= 0; k--) p.increment(steps[k][0], steps[k][1]);
    us.push(((now() - t0) * 1e3) / steps.length);
    normals = (p.normalsDrawn - before) / (128 * steps.length);
  }
  return { normalsPerElement: normals, us: median(us) };
}

/** The tree's node memory when its cache is full: cacheSize nodes and 4 leaf noise buffers, 2·size float64 each. */
function treeBytes(p: BrownianPath): number {
  const tree = p as BrownianTree;
  return (tree.cacheSize + 4 + 1) * 16 * tree.size;
}

export async function runBrownianBench(opts: BenchOptions): Promise<unknown> {
  const reps = opts.quick ? 50 : 200;
  const ns = nsPerNormal(reps, 'auto');
  const nsJs = nsPerNormal(reps, 'js');
  console.log(
    `CounterRNG.fillNormal, Philox4x32-10 + ziggurat: ${fmt(ns, 1)} ns per normal with the WebAssembly rounds` +
      `${new CounterRNG(0).usesWasm ? '' : ' (unavailable: JavaScript used)'}, ${fmt(nsJs, 1)} with the JavaScript rounds (best of 2^14-normal fills)`,
  );
  const { attempts, accepted } = adaptiveSchedule(0, 1, 0.01, 5);
  const rejected = accepted.filter((ok) => !ok).length;
  console.log(`schedule: ${attempts.length} attempted steps, ${rejected} rejected (${fmt((100 * rejected) / attempts.length, 0)}%)`);
  const rows: string[][] = [];
  const results: Record<string, unknown> = { nsPerNormal: ns, nsPerNormalJs: nsJs };
  for (const n of SIZES) {
    const large = n > 10000;
    const count = large ? (opts.quick ? 3 : 8) : attempts.length;
    const rounds = large ? (opts.quick ? 1 : 2) : opts.quick ? 3 : 9;
    const shape = [n];
    const tree = runPath(() => new BrownianTree({ seed: 1, t0: 0, t1: 1, shape }), treeBytes, attempts, count, rounds);
    const interval = runPath(
      () => new BrownianInterval({ seed: 1, t0: 0, t1: 1, shape }),
      (p) => (p as BrownianInterval).nodeBytes,
      attempts,
      count,
      rounds,
    );
    for (const [name, r] of [
      ['BrownianTree', tree],
      ['BrownianInterval', interval],
    ] as const) {
      rows.push([
        name,
        String(n),
        String(count),
        fmt(r.normalsPerElementPerAttempt, 2),
        fmt(Math.min(...r.usPerQuery), 0),
        fmt(median(r.usPerQuery), 0),
        fmt(r.nodeBytes / MB, 1),
      ]);
    }
    results[`n${n}`] = { tree, interval, ratio: median(tree.usPerQuery) / median(interval.usPerQuery) };
  }
  const back = reverseWalk(attempts, accepted, opts.quick ? 3 : 9);
  console.log(
    `BrownianInterval, n = 128, accepted steps queried again last to first (a reverse pass without recorded increments): ` +
      `${fmt(back.normalsPerElement, 2)} normals per element per step, ${fmt(back.us, 0)} µs per query (median)`,
  );
  results.reverse = back;
  printTable(['path', 'n', 'attempts', 'normals/elem/attempt', 'µs/query min', 'µs/query median', 'node MB'], rows, ['left']);
  console.log(
    'node MB: the tree when its cache is full (cacheSize + 4 leaf buffers + root, 2·n float64 each); the sampler after the attempts ' +
      `(root + cache + checkpoints + 2 spare, 2·n float32 each; at n = 163,840 it grows by 1.3 MB per ${new BrownianInterval({ seed: 0, t0: 0, t1: 1, shape: [1] }).checkpointEvery} steps).`,
  );
  return results;
}
