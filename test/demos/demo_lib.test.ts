/**
 * The demos' helpers: chart specs (vega-lite) and their headless SVG rendering (vega), the progress
 * bar (cli-progress), the spiral demo's shared pieces and its command line (node:util parseArgs).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chartGrid, epochChart, equalAspectDomains, lineChart, LinePoint, trajectoryChart } from '../../demos/lib/plots';
import { formatValue, TrainingProgress } from '../../demos/lib/progress_bar';
import { renderSvg, writeSvg } from '../../demos/lib/render_svg';
import { comparisonLines, initialConditions, observationTimes, resultsTable, SPIRAL_DEFAULTS, SpiralRunResult } from '../../demos/lib/spiral_shared';
import { settingsFromArgs } from '../../demos/spiral';

/** A tiny well-formedness check: balanced tags, one root, quoted attributes, no stray `<` or `&`. */
function checkXml(doc: string): void {
  const stack: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < doc.length) {
    const lt = doc.indexOf('<', i);
    const text = doc.slice(i, lt < 0 ? doc.length : lt);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(text)) throw new Error(`unescaped & in text: ${text}`);
    if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root: ${text}`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(doc);
    if (!m) throw new Error(`malformed tag at ${lt}: ${doc.slice(lt, lt + 60)}`);
    const [, close, name, attrs, selfClose] = m;
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(attrs)) throw new Error(`unescaped & in attributes: ${attrs}`);
    const attrNames = [...attrs.matchAll(/([\w:.-]+)=/g)].map((a) => a[1]);
    if (new Set(attrNames).size !== attrNames.length) throw new Error(`duplicate attribute in <${name}${attrs}>`);
    if (close) {
      if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`);
    } else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) roots++;
    i = tag.lastIndex;
  }
  if (stack.length) throw new Error(`unclosed tags: ${stack.join(', ')}`);
  if (roots !== 1) throw new Error(`expected one root element, got ${roots}`);
}

/** The `d` of every drawn line and the stroke colour, from vega's SVG. */
function lines(svg: string): { d: string; stroke: string; dash: string | null }[] {
  return [...svg.matchAll(/<path [^>]*aria-roledescription="line mark"[^>]*>/g)].map((m) => ({
    d: /\sd="([^"]*)"/.exec(m[0])![1],
    stroke: /\sstroke="([^"]*)"/.exec(m[0])![1],
    dash: /\sstroke-dasharray="([^"]*)"/.exec(m[0])?.[1] ?? null,
  }));
}

const countPoints = (svg: string): number => [...svg.matchAll(/aria-roledescription="point"/g)].length;

// vega-lite's spec types are unions; the tests read the plain JSON.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (spec: unknown): any => JSON.parse(JSON.stringify(spec));

const opts = { title: 'Loss & <NFE> "vs" it\'s', xLabel: 'time <s>', yLabel: 'y & z' };

describe('lineChart: the vega-lite spec', () => {
  const points: LinePoint[] = [
    { x: 0, y: 1, series: 'a' },
    { x: 1, y: NaN, series: 'a' },
    { x: 2, y: 3, series: 'a' },
    { x: 0, y: -1, series: 'b', style: 'test' },
    { x: Infinity, y: 0, series: 'b', style: 'test' },
    { x: 2, y: 0.5, series: 'b', style: 'train' },
  ];

  it('keeps only finite points, colours series in order of appearance, with fixed colours where given', () => {
    const spec = json(lineChart(points, { ...opts, colors: { b: '#000000' } }));
    expect(spec.data.values.map((v: { x: number; y: number }) => [v.x, v.y])).toEqual([
      [0, 1],
      [2, 3],
      [0, -1],
      [2, 0.5],
    ]);
    const color = spec.layer[0].encoding.color;
    expect(color.scale.domain).toEqual(['a', 'b']);
    expect(color.scale.range).toEqual(['#1f77b4', '#000000']);
    expect(spec.title).toBe(opts.title);
    expect(spec.layer[0].encoding.x.title).toBe(opts.xLabel);
  });

  it('dashes the listed styles, and draws markers only when asked (all series or the listed ones)', () => {
    const spec = json(lineChart(points, { ...opts, dashed: ['test'] }));
    const dash = spec.layer[0].encoding.strokeDash;
    expect(dash.field).toBe('style');
    expect(dash.scale.domain).toEqual(['', 'test', 'train']);
    expect(dash.scale.range).toEqual([
      [1, 0],
      [6, 4],
      [1, 0],
    ]);
    expect(spec.layer).toHaveLength(1);
    expect(json(lineChart(points, { ...opts, markers: true })).layer[1].mark.type).toBe('point');
    const some = json(lineChart(points, { ...opts, markers: ['b'] }));
    expect(some.layer[1].transform).toEqual([{ filter: { field: 'series', oneOf: ['b'] } }]);
  });

  it('logY: a log scale, and points with y ≤ 0 left out', () => {
    const spec = json(lineChart(points, { ...opts, logY: true }));
    expect(spec.layer[0].encoding.y.scale.type).toBe('log');
    expect(spec.data.values.map((v: { y: number }) => v.y)).toEqual([1, 3, 0.5]);
  });

  it('equalAspect: domains with the same units per pixel that contain every point', () => {
    const t = Array.from({ length: 50 }, (_, i) => i / 5);
    const ellipse = t.map((v) => ({ x: 3 * Math.cos(v), y: 0.5 * Math.sin(v), series: 'e' }));
    const { x, y } = equalAspectDomains(ellipse, 700, 400);
    expect((x[1] - x[0]) / 700).toBeCloseTo((y[1] - y[0]) / 400, 12);
    for (const p of ellipse) {
      expect(p.x).toBeGreaterThanOrEqual(x[0]);
      expect(p.x).toBeLessThanOrEqual(x[1]);
      expect(p.y).toBeGreaterThanOrEqual(y[0]);
      expect(p.y).toBeLessThanOrEqual(y[1]);
    }
    const spec = json(lineChart(ellipse, { ...opts, width: 700, height: 400, equalAspect: true }));
    expect(spec.layer[0].encoding.x.scale).toEqual({ domain: x, nice: false, zero: false });
    expect(spec.layer[0].encoding.y.scale).toEqual({ domain: y, nice: false, zero: false });
    // A single point still gets a non-empty domain.
    const one = equalAspectDomains([{ x: 2, y: 2, series: 's' }], 100, 100);
    expect(one.x[1] - one.x[0]).toBeGreaterThan(0);
  });

  it('epochChart numbers epochs from 1 with integer ticks; chartGrid tiles specs and checks its columns', () => {
    const spec = json(epochChart([{ name: 'run', values: [5, 4, 3] }], { ...opts }));
    expect(spec.data.values.map((v: { x: number }) => v.x)).toEqual([1, 2, 3]);
    expect(spec.layer[0].encoding.x.axis).toEqual({ tickMinStep: 1, format: 'd' });
    const grid = json(chartGrid([lineChart(points, opts), lineChart(points, opts), lineChart(points, opts)], 2, 'all'));
    expect(grid.columns).toBe(2);
    expect(grid.concat).toHaveLength(3);
    expect(grid.concat[0].$schema).toBeUndefined();
    expect(() => chartGrid([], 0)).toThrow(/columns/);
  });
});

describe('renderSvg: vega in Node, no browser', () => {
  it('draws one line per series and escapes the texts', async () => {
    const svg = await renderSvg(
      lineChart(
        [
          { x: 0, y: 1, series: 'a < b' },
          { x: 1, y: 2, series: 'a < b' },
          { x: 0, y: 3, series: 'c' },
          { x: 1, y: NaN, series: 'c' },
          { x: 2, y: 1, series: 'c' },
        ],
        { ...opts, markers: ['c'] },
      ),
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(() => checkXml(svg)).not.toThrow();
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg).toContain('>Loss &amp; &lt;NFE&gt; "vs" it\'s</text>');
    expect(svg).toContain('time &lt;s&gt;');
    expect(svg).toContain('a &lt; b');
    const drawn = lines(svg);
    expect(drawn).toHaveLength(2);
    expect(new Set(drawn.map((l) => l.stroke))).toEqual(new Set(['#1f77b4', '#ff7f0e']));
    expect(countPoints(svg)).toBe(2); // series c's two finite points
  });

  it('draws trajectories as curves in time order: true dashed, learned solid with markers', async () => {
    const th = Array.from({ length: 40 }, (_, i) => (i * 2 * Math.PI) / 39);
    const truth = [0, 1, 2].map((k) => th.map((t) => [(2 + k) * Math.cos(t), (2 + k) * Math.sin(t)]));
    const learned = [0, 1, 2].map((k) => th.filter((_, i) => i % 4 === 0).map((t) => [(2 + k) * Math.cos(t), (2 + k) * Math.sin(t)]));
    const svg = await renderSvg(trajectoryChart(truth, learned, { title: 'circles', learnedLabel: 'learned' }));
    expect(() => checkXml(svg)).not.toThrow();
    const drawn = lines(svg);
    expect(drawn).toHaveLength(6);
    const dashed = drawn.filter((l) => l.dash === '6,4');
    expect(dashed).toHaveLength(3);
    expect(new Set(dashed.map((l) => l.stroke))).toEqual(new Set(['#444444']));
    expect(drawn.filter((l) => l.dash === null || l.dash === '1,0').every((l) => l.stroke === '#d62728')).toBe(true);
    expect(countPoints(svg)).toBe(learned.flat().length);
    // In time order, a circle's path visits its 40 points: 39 segments, not a zigzag sorted by x.
    for (const l of dashed) expect(l.d.split('L')).toHaveLength(40);
  });

  it('renders log axes and grids without NaN, and writeSvg creates parent folders', async () => {
    const spec = chartGrid(
      [
        epochChart([{ name: 'loss', values: [0.3, 0.01, 0, -5, 2e-4] }], { ...opts, logY: true }),
        epochChart([{ name: 'nfe', values: [100, 90, 80] }], { ...opts }),
      ],
      2,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-lib-'));
    const file = path.join(dir, 'a', 'b', 'plot.svg');
    await writeSvg(file, spec);
    const svg = fs.readFileSync(file, 'utf8');
    fs.rmSync(dir, { recursive: true, force: true });
    expect(() => checkXml(svg)).not.toThrow();
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(lines(svg)).toHaveLength(2);
    // The log axis is labelled at powers of ten.
    expect(svg).toMatch(/>0\.001</);
    expect(svg).toMatch(/>0\.1</);
  });
});

describe('TrainingProgress (cli-progress)', () => {
  function fakeStream(isTTY: boolean): { stream: NodeJS.WritableStream; out: () => string } {
    let buf = '';
    const s = { isTTY, columns: 120, write: (chunk: string) => ((buf += chunk), true), on: () => s, removeListener: () => s };
    return { stream: s as unknown as NodeJS.WritableStream, out: () => buf };
  }

  it('off a terminal: whole lines, the last with the final count, values and message', () => {
    const { stream, out } = fakeStream(false);
    const bar = new TrainingProgress('train', 100, { width: 10, stream });
    for (let i = 0; i < 100; i++) bar.tick({ loss: 1 / (i + 3), nfe: 20 + i });
    bar.done('best loss 0.0097');
    expect(out()).not.toContain('\r');
    const lines = out()
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines[0]).toBe('train [----------] 0/100 0% eta 0s');
    expect(lines[lines.length - 1]).toBe('train [##########] 100/100 100% eta 0s loss=0.009804 nfe=119 best loss 0.0097');
  });

  it('on a terminal: redraws one line in place', () => {
    const { stream, out } = fakeStream(true);
    const bar = new TrainingProgress('fit', 3, { stream });
    bar.tick({ loss: 0.5 });
    bar.tick();
    bar.tick({ loss: 0.25 });
    bar.done();
    expect(out().endsWith('\n')).toBe(true);
    expect(out().split('\n')).toHaveLength(2);
    expect(out()).toContain('3/3 100%');
    expect(out()).toContain('loss=0.25');
  });

  it('formats floats with 4 significant digits', () => {
    expect(formatValue(0.123)).toBe('0.123');
    expect(formatValue(3.14159265)).toBe('3.142');
    expect(formatValue(1.23456e-7)).toBe('1.235e-7');
    expect(formatValue(98)).toBe('98');
    expect(formatValue(NaN)).toBe('NaN');
    expect(formatValue('adam')).toBe('adam');
  });
});

describe('spiral demo: shared pieces and command line', () => {
  const row = (name: string, testLoss: number, nfe: number): SpiralRunResult => ({
    name,
    trainLoss: 0.088254,
    testLoss,
    predictionNFE: nfe,
    trainSeconds: 52.51,
    predictSeconds: 0.02784,
    nfeHistory: [],
    lossHistory: [],
    predicted: [],
  });

  it('prints the results table and the comparison with vanilla', () => {
    const rows = [row('vanilla', 0.05652, 321), row('error', 0.05451, 309)];
    expect(resultsTable(rows)).toBe(
      [
        '| run     | train loss | test loss | prediction NFE | train time (s) | predict time (ms) |',
        '|---------|-----------:|----------:|---------------:|---------------:|------------------:|',
        '| vanilla |    0.08825 |   0.05652 |            321 |           52.5 |              27.8 |',
        '| error   |    0.08825 |   0.05451 |            309 |           52.5 |              27.8 |',
      ].join('\n'),
    );
    expect(comparisonLines(rows)).toEqual(['error: prediction NFE 96% of vanilla, test loss 96% of vanilla']);
    expect(comparisonLines([row('error', 1, 1)])).toEqual([]);
  });

  it('initial conditions are deterministic and inside the annulus sector', () => {
    const a = initialConditions(20, 7, 1.9, 2.1, 0.25);
    expect(initialConditions(20, 7, 1.9, 2.1, 0.25)).toEqual(a);
    expect(initialConditions(20, 8, 1.9, 2.1, 0.25)).not.toEqual(a);
    for (const [x, y] of a) {
      expect(Math.hypot(x, y)).toBeGreaterThanOrEqual(1.9 - 1e-6);
      expect(Math.hypot(x, y)).toBeLessThanOrEqual(2.1 + 1e-6);
      expect(Math.abs(Math.atan2(y, x))).toBeLessThanOrEqual(0.25 + 1e-6);
    }
    expect(observationTimes(1.5, 3)).toEqual([0.5, 1, 1.5]);
  });

  it('parses its options with node:util parseArgs', () => {
    const d = settingsFromArgs([]);
    expect(d.help).toBe(false);
    expect(d.backend).toBeUndefined();
    expect(d.settings).toEqual({ ...SPIRAL_DEFAULTS, runs: ['vanilla', 'error', 'stiffness', 'both'], out: 'demo-output' });
    const s = settingsFromArgs(['--epochs', '3', '--runs', 'vanilla,error', '--lambda-error-final=0.1', '--T', '2', '--backend', 'cpu', '--out', 'x']);
    expect(s.settings.epochs).toBe(3);
    expect(s.settings.runs).toEqual(['vanilla', 'error']);
    expect(s.settings.lambdaErrorFinal).toBe(0.1);
    expect(s.settings.T).toBe(2);
    expect(s.settings.out).toBe('x');
    expect(s.backend).toBe('cpu');
    expect(settingsFromArgs(['-h']).help).toBe(true);
  });

  it('refuses unknown options, non-numbers, unknown runs and positional arguments', () => {
    expect(() => settingsFromArgs(['--epochz', '3'])).toThrow(/Unknown option '--epochz'/);
    expect(() => settingsFromArgs(['--epochs', 'many'])).toThrow("--epochs must be a number, got 'many'.");
    expect(() => settingsFromArgs(['--lr', ''])).toThrow(/--lr must be a number/);
    expect(() => settingsFromArgs(['--runs', 'vanilla,fancy'])).toThrow("Unknown run 'fancy'; choose from vanilla, error, stiffness, both.");
    expect(() => settingsFromArgs(['200'])).toThrow(/positional/);
  });
});
