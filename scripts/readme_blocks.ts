/**
 * Generated blocks in README.md and RESULTS.md, so that their examples and result tables cannot drift from
 * the code and the runs they come from:
 *
 *   <!-- example: examples/neural_ode.mts -->      a TypeScript block holding that file, verbatim
 *   <!-- /example -->
 *   <!-- results: spiral -->                      the table and comparison lines the demo printed,
 *   <!-- /results -->                             rendered from results/spiral.json
 *
 * `npm run readme` rewrites the blocks (`-- --from-demo-output` first copies each demo's results.json from
 * demo-output/ into results/); `test/docs/readme_blocks.test.ts` fails when a block differs from its source.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { comparisonLines as spiralComparison, resultsTable as spiralTable } from '../demos/lib/spiral_shared';
import { comparisonLines as sdeComparison, resultsTable as sdeTable } from '../demos/spiral_sde';
import { comparisonLines as mnistComparison, table as mnistTable } from '../demos/mnist';
import { comparisonLines as latentComparison, paperTable as latentPaperTable, resultsTable as latentTable } from '../demos/latent';

/** A block rendered from a demo's committed results: which demo, and how the block is rendered. */
interface ResultSource {
  /** The demo's name: its results are committed as results/<demo>.json. */
  demo: string;
  /** The results.json the demo writes with its default options. */
  demoOutput: string;
  render(json: { results: never[]; runs: never[] }): string[];
}

interface MnistHistoryRow {
  model: string;
  run: string;
  dt0: number | string;
  history: { trainNFE: number[]; testNFE: number[]; testAccuracy: number[] };
}

/** Per-epoch NFE and accuracy of each MNIST run, one row per run. */
function mnistEpochTable(rows: MnistHistoryRow[]): string {
  const list = (xs: number[], f: (x: number) => string): string => xs.map(f).join(', ');
  const body = rows.map((r) => [
    `${r.model} ${r.run}, dt0 ${r.dt0}`,
    list(r.history.trainNFE, (x) => String(Math.round(x * 10) / 10)),
    r.history.testNFE.length > 0 ? list(r.history.testNFE, (x) => String(Math.round(x * 10) / 10)) : '—',
    r.history.testAccuracy.length > 0 ? list(r.history.testAccuracy, (x) => (100 * x).toFixed(1)) : '—',
  ]);
  const head = ['model / run', 'forward NFE per training batch, by epoch', 'test NFE by epoch', 'test acc % by epoch'];
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...body.map(line)].join('\n');
}

const MNIST_OUTPUT = 'demo-output/mnist/results.json';

export const RESULT_SOURCES: Record<string, ResultSource> = {
  spiral: {
    demo: 'spiral',
    demoOutput: 'demo-output/results.json',
    render: (j) => [spiralTable(j.results), '', ...spiralComparison(j.results).map((l) => `- ${l}`)],
  },
  sde: { demo: 'sde', demoOutput: 'demo-output/sde/results.json', render: (j) => [sdeTable(j.results), '', ...sdeComparison(j.results).map((l) => `- ${l}`)] },
  mnist: { demo: 'mnist', demoOutput: MNIST_OUTPUT, render: (j) => [mnistTable(j.results), '', ...mnistComparison(j.results).map((l) => `- ${l}`)] },
  'mnist-epochs': { demo: 'mnist', demoOutput: MNIST_OUTPUT, render: (j) => [mnistEpochTable(j.results)] },
  latent: {
    demo: 'latent',
    demoOutput: 'demo-output/latent/results.json',
    render: (j) => [latentTable(j.runs), '', latentPaperTable(), '', ...latentComparison(j.runs).map((l) => `- ${l}`)],
  },
};

/** One source per demo (the first block rendered from it): the demos whose results are committed. */
export const RESULT_DEMOS: readonly ResultSource[] = [...new Map(Object.values(RESULT_SOURCES).map((r) => [r.demo, r])).values()];

/** Committed copy of a demo's results.json, relative to the repository root. */
export const resultsFile = (name: string): string => path.join('results', `${name}.json`);

const BLOCK = /(<!-- (example|results): ([^\s]+) -->\n)([\s\S]*?)(<!-- \/\2 -->)/g;

/** The generated content of one block. */
function blockContent(kind: string, arg: string, root: string): string {
  if (kind === 'example') {
    const code = fs.readFileSync(path.join(root, arg), 'utf8').trimEnd();
    return ['```ts', code, '```'].join('\n');
  }
  const source = RESULT_SOURCES[arg];
  if (!source) throw new Error(`Unknown results block '${arg}'; known: ${Object.keys(RESULT_SOURCES).join(', ')}.`);
  const file = path.join(root, resultsFile(source.demo));
  if (!fs.existsSync(file)) {
    throw new Error(`${resultsFile(source.demo)} is missing: run the demo (it writes ${source.demoOutput}), then \`npm run readme -- --from-demo-output\`.`);
  }
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  return source.render(json).join('\n');
}

/** `markdown` with every generated block rewritten from its source (files relative to `root`). */
export function syncBlocks(markdown: string, root: string): string {
  return markdown.replace(
    BLOCK,
    (_all, open: string, kind: string, arg: string, _old: string, close: string) => `${open}${blockContent(kind, arg, root)}\n${close}`,
  );
}

/**
 * `syncBlocks`, then Prettier with the repository's settings (as `npm run format` leaves the file). Prettier runs
 * in a child process: its API loads ES modules dynamically, which Jest's module sandbox cannot.
 */
export function syncAndFormat(markdown: string, root: string, file: string): string {
  const cli = require.resolve('prettier/bin/prettier.cjs');
  return execFileSync(process.execPath, [cli, '--stdin-filepath', file], { cwd: root, input: syncBlocks(markdown, root), encoding: 'utf8' });
}

/** The generated blocks of a markdown text, as [marker, content] pairs (for tests). */
export function listBlocks(markdown: string): { kind: string; arg: string; content: string }[] {
  return [...markdown.matchAll(BLOCK)].map((m) => ({ kind: m[2], arg: m[3], content: m[4] }));
}
