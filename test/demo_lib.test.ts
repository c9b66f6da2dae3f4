/** The demos' dependency-free helpers: the SVG line-plot writer and the progress bar. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gridOfPlots, linePlot, niceStep, Series, writeFileEnsuringDir } from '../demos/lib/svg_plot';
import { formatValue, ProgressBar } from '../demos/lib/progress';

/** A tiny well-formedness check: balanced tags, one root, quoted attributes, no stray `<` or `&`. */
function checkXml(doc: string): void {
  const stack: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < doc.length) {
    const lt = doc.indexOf('<', i);
    const text = doc.slice(i, lt < 0 ? doc.length : lt);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) throw new Error(`unescaped & in text: ${text}`);
    if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root: ${text}`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(doc);
    if (!m) throw new Error(`malformed tag at ${lt}: ${doc.slice(lt, lt + 60)}`);
    const [, close, name, attrs, selfClose] = m;
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(attrs)) throw new Error(`unescaped & in attributes: ${attrs}`);
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

function polylines(svg: string): [number, number][][] {
  return [...svg.matchAll(/<polyline points="([^"]*)"/g)].map((m) =>
    m[1].split(' ').map((p) => p.split(',').map(Number) as [number, number]),
  );
}

/** Tick label positions: x-axis labels are centred below the frame, y-axis labels end left of it. */
function ticks(svg: string): { x: { v: number; px: number }[]; y: { v: number; px: number }[] } {
  const x = [...svg.matchAll(/<text x="([-\d.]+)" y="[-\d.]+" text-anchor="middle">([^<]*)<\/text>/g)].map((m) => ({
    px: Number(m[1]),
    v: Number(m[2]),
  }));
  const y = [...svg.matchAll(/<text x="[-\d.]+" y="([-\d.]+)" dy="0.35em" text-anchor="end">([^<]*)<\/text>/g)].map((m) => ({
    px: Number(m[1]),
    v: Number(m[2]),
  }));
  return { x, y };
}

function isNice(step: number): boolean {
  const mag = Math.pow(10, Math.floor(Math.log10(step) + 1e-9));
  return [1, 2, 5, 10].some((m) => Math.abs(step / mag - m) < 1e-6);
}

const opts = { title: 'Loss & <NFE> "vs" it\'s', xLabel: 'time <s>', yLabel: 'y & z' };

describe('linePlot', () => {
  const series: Series[] = [
    { name: 'sin', x: [0, 1, 2, 3, 4, 5, 6, 7], y: [0, 0.84, 0.91, 0.14, -0.76, -0.96, -0.28, 0.66] },
    { name: 'a < b', x: [0, 3.5, 7.3], y: [1.2, 0.3, -1.1], dashed: true, markers: true, color: '#000' },
    { name: 'empty', x: [], y: [] },
  ];
  const svg = linePlot(series, opts);

  it('is a well-formed standalone SVG document', () => {
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(() => checkXml(svg)).not.toThrow();
    expect(svg).toContain('stroke-dasharray');
    expect(svg).toContain('<circle');
    expect(svg).toContain('clip-path="url(#');
  });

  it('escapes the title, labels and series names', () => {
    expect(svg).toContain('Loss &amp; &lt;NFE&gt; &quot;vs&quot; it&#39;s');
    expect(svg).toContain('time &lt;s&gt;');
    expect(svg).toContain('y &amp; z');
    expect(svg).toContain('a &lt; b');
    expect(svg).not.toContain('<NFE>');
  });

  it('draws one polyline per series with finite points, with default colours cycling', () => {
    expect(polylines(svg)).toHaveLength(2);
    expect(svg).toContain('stroke="#000"');
    const many = linePlot(
      Array.from({ length: 9 }, (_, i) => ({ name: `s${i}`, x: [0, 1], y: [i, i + 1] })),
      opts,
    );
    const colours = [...many.matchAll(/<polyline[^>]*stroke="([^"]*)"/g)].map((m) => m[1]);
    expect(colours).toHaveLength(9);
    expect(new Set(colours.slice(0, 8)).size).toBe(8);
    expect(colours[8]).toBe(colours[0]);
  });

  it('has about five nice ticks covering the data range', () => {
    const { x, y } = ticks(svg);
    for (const [axis, lo, hi] of [
      [x, 0, 7.3],
      [y, -1.1, 1.2],
    ] as const) {
      expect(axis.length).toBeGreaterThanOrEqual(3);
      expect(axis.length).toBeLessThanOrEqual(11);
      const vs = axis.map((t) => t.v);
      expect(vs.every(Number.isFinite)).toBe(true);
      const step = vs[1] - vs[0];
      expect(isNice(step)).toBe(true);
      for (let i = 1; i < vs.length; i++) expect(vs[i] - vs[i - 1]).toBeCloseTo(step, 9);
      expect(vs[0]).toBeLessThanOrEqual(lo);
      expect(vs[vs.length - 1]).toBeGreaterThanOrEqual(hi);
    }
    // Data points lie within the frame spanned by the outer ticks.
    const xs = x.map((t) => t.px);
    const ys = y.map((t) => t.px);
    for (const line of polylines(svg)) {
      for (const [X, Y] of line) {
        expect(X).toBeGreaterThanOrEqual(Math.min(...xs) - 1e-6);
        expect(X).toBeLessThanOrEqual(Math.max(...xs) + 1e-6);
        expect(Y).toBeGreaterThanOrEqual(Math.min(...ys) - 1e-6);
        expect(Y).toBeLessThanOrEqual(Math.max(...ys) + 1e-6);
      }
    }
  });

  it('niceStep picks 1/2/5 × 10^k steps', () => {
    expect(niceStep(7.3)).toBe(1);
    expect(niceStep(2.3)).toBe(0.5);
    expect(niceStep(0.0013)).toBe(0.0002);
    expect(niceStep(12345)).toBe(2000);
    for (const span of [1e-7, 0.37, 3, 42, 999, 6.02e23]) expect(isNice(niceStep(span))).toBe(true);
  });

  it('handles a constant or empty series without NaN coordinates', () => {
    for (const s of [linePlot([{ name: 'c', x: [1, 2, 3], y: [5, 5, 5] }], opts), linePlot([], opts)]) {
      expect(() => checkXml(s)).not.toThrow();
      expect(s).not.toMatch(/NaN|Infinity/);
    }
  });

  it('splits a series at NaN / infinite values', () => {
    const s = linePlot([{ name: 'gappy', x: [0, 1, 2, 3, 4, 5, 6], y: [1, 2, NaN, 3, 4, Infinity, NaN] }], opts);
    const lines = polylines(s);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toHaveLength(2);
    expect(lines[1]).toHaveLength(2);
    expect(s).not.toMatch(/NaN|Infinity/);
    expect(() => checkXml(s)).not.toThrow();
  });

  it('logY: skips non-positive values and ticks at powers of ten', () => {
    const s = linePlot(
      [{ name: 'loss', x: [0, 1, 2, 3, 4, 5], y: [3e-1, 1e-2, 0, -5, 2e-4, 5e-5] }],
      { ...opts, logY: true },
    );
    expect(() => checkXml(s)).not.toThrow();
    expect(s).not.toMatch(/NaN|Infinity/);
    const lines = polylines(s);
    expect(lines).toHaveLength(2); // [0.3, 0.01] | [2e-4, 5e-5]
    expect(lines.map((l) => l.length)).toEqual([2, 2]);
    const { y } = ticks(s);
    expect(y.length).toBeGreaterThanOrEqual(2);
    for (const t of y) expect(Math.log10(t.v)).toBeCloseTo(Math.round(Math.log10(t.v)), 9);
    const vs = y.map((t) => t.v);
    expect(Math.min(...vs)).toBeLessThanOrEqual(5e-5);
    expect(Math.max(...vs)).toBeGreaterThanOrEqual(0.3);
    // Equal decades get equal pixel spacing.
    const gaps = y.slice(1).map((t, i) => Math.abs(t.px - y[i].px));
    for (const g of gaps) expect(g).toBeCloseTo(gaps[0], 1);
  });

  it('equalAspect gives equal pixels per unit on both axes', () => {
    const t = Array.from({ length: 50 }, (_, i) => i / 5);
    const s = linePlot([{ name: 'ellipse', x: t.map((v) => 3 * Math.cos(v)), y: t.map((v) => 0.5 * Math.sin(v)) }], {
      ...opts,
      width: 700,
      height: 400,
      equalAspect: true,
    });
    expect(() => checkXml(s)).not.toThrow();
    const { x, y } = ticks(s);
    const perUnit = (a: { v: number; px: number }[]): number =>
      Math.abs(a[a.length - 1].px - a[0].px) / Math.abs(a[a.length - 1].v - a[0].v);
    expect(x.length).toBeGreaterThanOrEqual(2);
    expect(y.length).toBeGreaterThanOrEqual(2);
    expect(perUnit(x)).toBeCloseTo(perUnit(y), 1);
    // The ellipse (wider than tall) still fits: x ticks must span about [-3, 3].
    expect(Math.min(...x.map((v) => v.v))).toBeLessThanOrEqual(-2);
    expect(Math.max(...x.map((v) => v.v))).toBeGreaterThanOrEqual(2);
  });

  it('rejects series whose x and y lengths differ', () => {
    expect(() => linePlot([{ name: 'bad', x: [1, 2], y: [1] }], opts)).toThrow(/bad/);
  });
});

describe('gridOfPlots / writeFileEnsuringDir', () => {
  it('tiles plots into one well-formed SVG with unique ids', () => {
    const a = linePlot([{ name: 'a', x: [0, 1], y: [0, 1] }], { ...opts, width: 300, height: 200 });
    const b = linePlot([{ name: 'b', x: [0, 1], y: [1, 0] }], { ...opts, width: 300, height: 200 });
    const g = gridOfPlots([a, b, a], 2);
    expect(() => checkXml(g)).not.toThrow();
    expect(g).toMatch(/^<svg[^>]*width="600" height="400"/);
    expect(g).toContain('<svg x="300" y="0"');
    expect(g).toContain('<svg x="0" y="200"');
    const ids = [...g.matchAll(/\bid="([^"]*)"/g)].map((m) => m[1]);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    for (const m of g.matchAll(/url\(#([^)]*)\)/g)) expect(ids).toContain(m[1]);
    expect(() => gridOfPlots([a], 0)).toThrow();
  });

  it('creates parent directories', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-lib-'));
    const file = path.join(dir, 'a', 'b', 'plot.svg');
    writeFileEnsuringDir(file, '<svg/>');
    expect(fs.readFileSync(file, 'utf8')).toBe('<svg/>');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('ProgressBar', () => {
  function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; out: () => string } {
    let buf = '';
    const s = { isTTY, write: (chunk: string) => ((buf += chunk), true) };
    return { stream: s as unknown as NodeJS.WriteStream, out: () => buf };
  }

  it('prints at most every 10% when not a TTY, ending with the final count', () => {
    const { stream, out } = fakeStream(false);
    const bar = new ProgressBar('train', 100, { width: 10, stream });
    for (let i = 0; i < 100; i++) bar.tick({ loss: 1 / (i + 3), nfe: 20 + i });
    bar.done('best loss 0.0097');
    const lines = out().split('\n').filter((l) => l !== '');
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(out()).not.toContain('\r');
    const last = lines[lines.length - 1];
    expect(last).toContain('100/100');
    expect(last).toContain('[##########]');
    expect(last).toContain('best loss 0.0097');
    expect(lines[0]).toMatch(/^train \[#-{9}\] 10\/100 10% eta \S+ loss=0\.08333 nfe=29$/);
  });

  it('redraws in place with \\r on a TTY', () => {
    const { stream, out } = fakeStream(true);
    const bar = new ProgressBar('fit', 3, { stream });
    bar.tick({ loss: 0.5 });
    bar.tick();
    bar.tick({ loss: 0.25 });
    bar.done();
    expect(out().startsWith('\r')).toBe(true);
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
    expect(formatValue('adam')).toBe('adam');
  });
});
