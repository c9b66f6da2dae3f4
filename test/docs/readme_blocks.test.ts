/** README.md and RESULTS.md: generated blocks match their sources (examples/, results/), and every relative link resolves. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { listBlocks, RESULT_DEMOS, RESULT_SOURCES, syncAndFormat, syncBlocks } from '../../scripts/readme_blocks';

const root = path.resolve(__dirname, '../..');
const DOCS = ['README.md', 'RESULTS.md'];
const read = (f: string): string => fs.readFileSync(path.join(root, f), 'utf8');

describe.each(DOCS)('%s', (file) => {
  test('its generated blocks (examples, result tables) equal what `npm run readme` renders from their sources', () => {
    const text = read(file);
    const blocks = listBlocks(text);
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) expect(b.content.trim().length).toBeGreaterThan(0);
    // a mismatch means a source changed without `npm run readme` (or the block was edited by hand)
    expect(syncAndFormat(text, root, file)).toBe(text);
  });

  test('every relative link points to a file or folder of the repository', () => {
    const text = read(file);
    const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^(https?:|mailto:|#)/.test(t));
    expect(targets.length).toBeGreaterThan(0);
    const missing = targets.filter((t) => !fs.existsSync(path.join(root, path.dirname(file), decodeURI(t.split('#')[0]))));
    expect(missing).toEqual([]);
  });
});

test('README includes every example file and the main result of every demo', () => {
  const blocks = listBlocks(read('README.md'));
  const examples = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.mts'));
  expect(
    blocks
      .filter((b) => b.kind === 'example')
      .map((b) => path.basename(b.arg))
      .sort(),
  ).toEqual(examples.sort());
  expect(
    blocks
      .filter((b) => b.kind === 'results')
      .map((b) => b.arg)
      .sort(),
  ).toEqual(['latent', 'mnist', 'sde', 'spiral']);
  const all = [...listBlocks(read('README.md')), ...listBlocks(read('RESULTS.md'))].filter((b) => b.kind === 'results');
  expect(new Set(all.map((b) => b.arg))).toEqual(new Set(Object.keys(RESULT_SOURCES)));
});

test('a stale table is caught: changing one number of a results JSON changes the rendered block', () => {
  const text = read('README.md');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-'));
  fs.mkdirSync(path.join(tmp, 'results'));
  fs.cpSync(path.join(root, 'examples'), path.join(tmp, 'examples'), { recursive: true });
  for (const { demo: name } of RESULT_DEMOS) {
    const json = JSON.parse(read(path.join('results', `${name}.json`)));
    if (name === 'spiral') json.results[0].predictionNFE += 1;
    fs.writeFileSync(path.join(tmp, 'results', `${name}.json`), JSON.stringify(json));
  }
  expect(syncBlocks(text, tmp)).not.toBe(text);
  fs.rmSync(tmp, { recursive: true });
});
