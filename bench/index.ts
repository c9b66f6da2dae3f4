/**
 * Benchmark runner: `npm run bench [-- --backend cpu|wasm] [--quick] [--section NAME]`.
 *
 * Each section lives in its own file under bench/ and exports an async function taking the parsed
 * options; add new sections (e.g. layer benchmarks) to SECTIONS and they run in sequence.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runAdjointBench } from './adjoint';
import { runBrownianBench } from './brownian';
import { runSdeBench } from './sde';
import { runMlpGridBench } from './mlp_grid';
import { runMnistBatchBench } from './mnist_batch';
import { runOdeWpBench } from './ode_wp';
import { runSolverBench } from './solver';
import { runSpiralTrainBench } from './spiral_train';
import { BenchOptions, fmt, now, parseArgs } from './util';

interface Section {
  name: string;
  run(opts: BenchOptions): Promise<unknown>;
}

const SECTIONS: Section[] = [
  { name: 'solver', run: runSolverBench },
  { name: 'adjoint', run: runAdjointBench },
  { name: 'spiral-train', run: runSpiralTrainBench },
  { name: 'mlp-grid', run: runMlpGridBench },
  { name: 'mnist-batch', run: runMnistBatchBench },
  { name: 'ode-wp', run: runOdeWpBench },
  { name: 'sde', run: runSdeBench },
  { name: 'brownian', run: runBrownianBench },
];

async function main(): Promise<void> {
  const opts = parseArgs(
    process.argv.slice(2),
    SECTIONS.map((s) => s.name),
  );
  const unknown = opts.sections.filter((s) => !SECTIONS.some((x) => x.name === s));
  if (unknown.length > 0) {
    throw new Error(`unknown section(s) ${unknown.join(', ')}; available: ${SECTIONS.map((s) => s.name).join(', ')}`);
  }
  const sections = opts.sections.length > 0 ? SECTIONS.filter((s) => opts.sections.includes(s.name)) : SECTIONS;
  console.log(`tfjs-core ${tf.version_core}, node ${process.version}; backends: ${opts.backends.join(', ')}${opts.quick ? ' (quick)' : ''}`);
  const t0 = now();
  for (const section of sections) {
    console.log(`\n=== ${section.name}`);
    await section.run(opts);
  }
  console.log(`\ndone in ${fmt((now() - t0) / 1000)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
