/**
 * A minimal, dependency-free SVG line-plot writer for the demos (they run headless on Node).
 *
 * `linePlot` returns a standalone SVG document; `gridOfPlots` tiles several of them into one;
 * `writeFileEnsuringDir` writes a file after creating its parent directory.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface Series {
  name: string;
  x: number[];
  y: number[];
  /** Any SVG colour; defaults to the next colour of an 8-colour cycle. */
  color?: string;
  dashed?: boolean;
  /** Draw a small circle at every point. */
  markers?: boolean;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Pixels; default 640. */
  width?: number;
  /** Pixels; default 420. */
  height?: number;
  /** Logarithmic y axis; points with y <= 0 are skipped (they break the line). */
  logY?: boolean;
  /** Same pixels per unit on both axes (phase-plane plots). Ignored when `logY` is set. */
  equalAspect?: boolean;
}

/** Eight colours that stay distinguishable on white (the Tableau/matplotlib cycle). */
export const DEFAULT_COLORS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
];

const MARGIN = { left: 72, right: 20, top: 40, bottom: 56 };
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** Escapes the five XML special characters. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&#39;';
    }
  });
}

/** Pixel coordinates, two decimals. */
function px(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(r === 0 ? 0 : r);
}

/** Removes floating-point noise such as 0.30000000000000004. */
function clean(v: number): number {
  const r = Number(v.toPrecision(12));
  return r === 0 ? 0 : r;
}

/** A 1, 2 or 5 × 10^k step giving about `target` intervals over `span`. */
export function niceStep(span: number, target = 5): number {
  if (!(span > 0) || !isFinite(span)) return 1;
  const raw = span / target;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const mult = norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10;
  return clean(mult * mag);
}

/** The next larger 1, 2 or 5 × 10^k step. */
function nextNiceStep(step: number): number {
  const mag = Math.pow(10, Math.floor(Math.log10(step) + 1e-9));
  const norm = Math.round(step / mag);
  return clean(norm === 1 ? 2 * mag : norm === 2 ? 5 * mag : 10 * mag);
}

/** Widens a degenerate or non-finite [lo, hi] so it has positive span. */
function widen(lo: number, hi: number): [number, number] {
  if (!isFinite(lo) || !isFinite(hi)) return [0, 1];
  if (hi > lo) return [lo, hi];
  const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
  return [lo - d, hi + d];
}

interface Axis {
  /** Domain in data units (log10 units for a log axis). */
  lo: number;
  hi: number;
  /** Tick positions in the same units as lo/hi. */
  ticks: number[];
  labels: string[];
  log: boolean;
}

/** Ticks at multiples of `step` inside [lo, hi]. */
function ticksIn(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  for (let k = first; k <= last && out.length < 100; k++) out.push(clean(k * step));
  return out;
}

/** Tick labels: fixed-point with the step's decimals, or exponential for the whole axis when it is huge or tiny. */
function formatTicks(ticks: number[], step: number): string[] {
  const maxAbs = Math.max(0, ...ticks.map(Math.abs));
  const expo = maxAbs >= 1e6 || (maxAbs > 0 && maxAbs < 1e-3);
  const stepExp = Math.floor(Math.log10(step) + 1e-9);
  return ticks.map((v) => {
    if (expo) {
      if (v === 0) return '0';
      const digits = Math.floor(Math.log10(Math.abs(v)) + 1e-9) - stepExp;
      const s = v.toExponential(Math.max(0, Math.min(15, digits)));
      return s.replace(/\.?0+e/, 'e').replace('e+', 'e');
    }
    return v.toFixed(Math.max(0, Math.min(10, -stepExp)));
  });
}

function formatPow10(k: number): string {
  if (k >= 0 && k <= 4) return String(Math.pow(10, k));
  if (k < 0 && k >= -3) return Math.pow(10, k).toFixed(-k);
  return `1e${k}`;
}

/** A linear axis whose domain is widened to the enclosing nice ticks. */
function linearAxis(lo: number, hi: number): Axis {
  [lo, hi] = widen(lo, hi);
  const step = niceStep(hi - lo);
  const nlo = clean(Math.floor(lo / step + 1e-9) * step);
  const nhi = clean(Math.ceil(hi / step - 1e-9) * step);
  const ticks = ticksIn(nlo, nhi, step);
  return { lo: nlo, hi: nhi, ticks, labels: formatTicks(ticks, step), log: false };
}

/** A linear axis over exactly [lo, hi], ticked every `step`. */
function fixedAxis(lo: number, hi: number, step: number): Axis {
  const ticks = ticksIn(lo, hi, step);
  return { lo, hi, ticks, labels: formatTicks(ticks, step), log: false };
}

/** A log10 axis (domain in decades) from a positive data range, ticked at powers of ten. */
function logAxis(lo: number, hi: number): Axis {
  if (!(lo > 0) || !isFinite(lo) || !isFinite(hi)) [lo, hi] = [1, 10];
  let a = Math.floor(Math.log10(lo) + 1e-9);
  let b = Math.ceil(Math.log10(hi) - 1e-9);
  if (b <= a) b = a + 1;
  const every = Math.max(1, Math.ceil((b - a) / 8));
  a = Math.floor(a / every) * every;
  b = Math.ceil(b / every) * every;
  const ticks: number[] = [];
  for (let k = a; k <= b; k += every) ticks.push(k);
  return { lo: a, hi: b, ticks, labels: ticks.map(formatPow10), log: true };
}

interface Segment {
  pts: [number, number][];
}

/** Splits a series into runs of plottable points (finite, and y > 0 on a log axis). */
function segmentsOf(s: Series, logY: boolean): Segment[] {
  const segs: Segment[] = [];
  let cur: [number, number][] = [];
  const n = Math.min(s.x.length, s.y.length);
  for (let i = 0; i < n; i++) {
    const x = s.x[i];
    let y = s.y[i];
    let ok = Number.isFinite(x) && Number.isFinite(y);
    if (ok && logY) {
      ok = y > 0;
      y = Math.log10(y);
    }
    if (ok) cur.push([x, y]);
    else if (cur.length) {
      segs.push({ pts: cur });
      cur = [];
    }
  }
  if (cur.length) segs.push({ pts: cur });
  return segs;
}

let plotCounter = 0;

/** Renders line series as a standalone SVG document. */
export function linePlot(series: Series[], opts: PlotOptions): string {
  const W = opts.width ?? 640;
  const H = opts.height ?? 420;
  const logY = !!opts.logY;
  for (const s of series) {
    if (s.x.length !== s.y.length) {
      throw new Error(`linePlot: series '${s.name}' has ${s.x.length} x values but ${s.y.length} y values`);
    }
  }
  const segs = series.map((s) => segmentsOf(s, logY));

  let xmin = Infinity;
  let xmax = -Infinity;
  let ymin = Infinity;
  let ymax = -Infinity;
  for (const ss of segs) {
    for (const seg of ss) {
      for (const [x, y] of seg.pts) {
        if (x < xmin) xmin = x;
        if (x > xmax) xmax = x;
        if (y < ymin) ymin = y;
        if (y > ymax) ymax = y;
      }
    }
  }

  const pl = MARGIN.left;
  const pt = MARGIN.top;
  const pw = Math.max(10, W - MARGIN.left - MARGIN.right);
  const ph = Math.max(10, H - MARGIN.top - MARGIN.bottom);

  let xa: Axis;
  let ya: Axis;
  if (logY) {
    xa = linearAxis(xmin, xmax);
    ya = logAxis(Math.pow(10, ymin), Math.pow(10, ymax));
  } else if (opts.equalAspect) {
    // Same units per pixel: centre each data range and extend the one needing less room.
    const [x0, x1] = widen(xmin, xmax);
    const [y0, y1] = widen(ymin, ymax);
    const pad = 0.04;
    const upp = Math.max(((x1 - x0) * (1 + 2 * pad)) / pw, ((y1 - y0) * (1 + 2 * pad)) / ph);
    const xc = (x0 + x1) / 2;
    const yc = (y0 + y1) / 2;
    const xs = (upp * pw) / 2;
    const ys = (upp * ph) / 2;
    // One step for both axes: ~5 intervals on the shorter one, widened until labels are >= 36 px apart.
    let step = niceStep(Math.min(2 * xs, 2 * ys), 5);
    while (step / upp < 36) step = nextNiceStep(step);
    xa = fixedAxis(xc - xs, xc + xs, step);
    ya = fixedAxis(yc - ys, yc + ys, step);
  } else {
    xa = linearAxis(xmin, xmax);
    ya = linearAxis(ymin, ymax);
  }

  const sx = (x: number): number => pl + ((x - xa.lo) / (xa.hi - xa.lo)) * pw;
  const sy = (y: number): number => pt + ph - ((y - ya.lo) / (ya.hi - ya.lo)) * ph;

  const id = `clip${++plotCounter}`;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<defs><clipPath id="${id}"><rect x="${pl}" y="${pt}" width="${pw}" height="${ph}"/></clipPath></defs>`,
  );

  // Grid lines and ticks.
  const grid: string[] = [];
  const tickMarks: string[] = [];
  const tickLabels: string[] = [];
  xa.ticks.forEach((t, i) => {
    const X = px(sx(t));
    grid.push(`<line x1="${X}" y1="${pt}" x2="${X}" y2="${pt + ph}"/>`);
    tickMarks.push(`<line x1="${X}" y1="${pt + ph}" x2="${X}" y2="${pt + ph + 5}"/>`);
    tickLabels.push(`<text x="${X}" y="${pt + ph + 18}" text-anchor="middle">${escapeXml(xa.labels[i])}</text>`);
  });
  ya.ticks.forEach((t, i) => {
    const Y = px(sy(t));
    grid.push(`<line x1="${pl}" y1="${Y}" x2="${pl + pw}" y2="${Y}"/>`);
    tickMarks.push(`<line x1="${pl - 5}" y1="${Y}" x2="${pl}" y2="${Y}"/>`);
    tickLabels.push(`<text x="${pl - 8}" y="${Y}" dy="0.35em" text-anchor="end">${escapeXml(ya.labels[i])}</text>`);
  });
  out.push(`<g stroke="#e6e6e6" stroke-width="1">${grid.join('')}</g>`);

  // Data.
  const colors = series.map((s, i) => s.color ?? DEFAULT_COLORS[i % DEFAULT_COLORS.length]);
  out.push(`<g clip-path="url(#${id})" fill="none" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round">`);
  series.forEach((s, i) => {
    const dash = s.dashed ? ' stroke-dasharray="6,4"' : '';
    for (const seg of segs[i]) {
      let pts = seg.pts.map(([x, y]) => `${px(sx(x))},${px(sy(y))}`);
      if (pts.length === 1) pts = [pts[0], pts[0]]; // an isolated point: a dot via the round cap
      out.push(`<polyline points="${pts.join(' ')}" stroke="${escapeXml(colors[i])}"${dash}/>`);
    }
    if (s.markers) {
      const dots = segs[i]
        .flatMap((seg) => seg.pts)
        .map(([x, y]) => `<circle cx="${px(sx(x))}" cy="${px(sy(y))}" r="2.6"/>`);
      out.push(`<g fill="${escapeXml(colors[i])}" stroke="none">${dots.join('')}</g>`);
    }
  });
  out.push('</g>');

  // Frame, ticks and labels.
  out.push(
    `<rect x="${pl}" y="${pt}" width="${pw}" height="${ph}" fill="none" stroke="#333333" stroke-width="1"/>`,
    `<g stroke="#333333" stroke-width="1">${tickMarks.join('')}</g>`,
    `<g ${FONT} font-size="11" fill="#333333">${tickLabels.join('')}</g>`,
    `<text x="${px(pl + pw / 2)}" y="${px(pt / 2 + 6)}" text-anchor="middle" ${FONT} font-size="15" font-weight="bold" fill="#111111">${escapeXml(opts.title)}</text>`,
    `<text x="${px(pl + pw / 2)}" y="${H - 14}" text-anchor="middle" ${FONT} font-size="12" fill="#111111">${escapeXml(opts.xLabel)}</text>`,
    `<text transform="translate(16 ${px(pt + ph / 2)}) rotate(-90)" text-anchor="middle" ${FONT} font-size="12" fill="#111111">${escapeXml(opts.yLabel)}</text>`,
  );

  // Legend (series with an empty name are left out), in the plot corner covering the fewest data points.
  const named = series.map((s, i) => ({ s, i })).filter(({ s }) => s.name !== '');
  if (named.length > 0) {
    const rowH = 16;
    const longest = Math.max(...named.map(({ s }) => s.name.length));
    const lw = Math.min(pw - 8, 44 + longest * 6.6);
    const lh = 8 + rowH * named.length;
    const inset = 6;
    const corners: [number, number][] = [
      [pl + pw - lw - inset, pt + inset], // top right
      [pl + inset, pt + inset], // top left
      [pl + pw - lw - inset, pt + ph - lh - inset], // bottom right
      [pl + inset, pt + ph - lh - inset], // bottom left
    ];
    const pix = segs.flatMap((ss) => ss.flatMap((seg) => seg.pts.map(([x, y]) => [sx(x), sy(y)] as [number, number])));
    let best = corners[0];
    let bestCount = Infinity;
    for (const c of corners) {
      let n = 0;
      for (const [X, Y] of pix) if (X >= c[0] && X <= c[0] + lw && Y >= c[1] && Y <= c[1] + lh) n++;
      if (n < bestCount) {
        bestCount = n;
        best = c;
      }
    }
    const [lx, ly] = best;
    const items: string[] = [];
    named.forEach(({ s, i }, row) => {
      const cy = ly + 4 + rowH * row + rowH / 2;
      const dash = s.dashed ? ' stroke-dasharray="6,4"' : '';
      const col = escapeXml(colors[i]);
      items.push(
        `<line x1="${px(lx + 8)}" y1="${px(cy)}" x2="${px(lx + 32)}" y2="${px(cy)}" stroke="${col}" stroke-width="2"${dash}/>`,
      );
      if (s.markers) items.push(`<circle cx="${px(lx + 20)}" cy="${px(cy)}" r="2.6" fill="${col}"/>`);
      items.push(
        `<text x="${px(lx + 38)}" y="${px(cy)}" dy="0.35em" ${FONT} font-size="11" fill="#111111">${escapeXml(s.name)}</text>`,
      );
    });
    out.push(
      `<g><rect x="${px(lx)}" y="${px(ly)}" width="${px(lw)}" height="${px(lh)}" fill="#ffffff" fill-opacity="0.85" stroke="#999999" stroke-width="0.8" rx="3"/>${items.join('')}</g>`,
    );
  }

  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Reads a numeric attribute from the root element of an SVG document. */
function rootAttr(svg: string, name: string): number | undefined {
  const m = /<svg\b[^>]*>/.exec(svg);
  if (!m) return undefined;
  const a = new RegExp(`\\s${name}="([0-9.]+)`).exec(m[0]);
  return a ? Number(a[1]) : undefined;
}

/** Tiles SVG documents (as produced by `linePlot`) into one SVG, `columns` per row. */
export function gridOfPlots(plots: string[], columns: number): string {
  if (!(columns >= 1) || !Number.isInteger(columns)) throw new Error(`gridOfPlots: columns must be a positive integer, got ${columns}`);
  const sizes = plots.map((p) => [rootAttr(p, 'width') ?? 640, rootAttr(p, 'height') ?? 420]);
  const cw = Math.max(0, ...sizes.map((s) => s[0]));
  const ch = Math.max(0, ...sizes.map((s) => s[1]));
  const cols = Math.min(columns, Math.max(1, plots.length));
  const rows = Math.ceil(plots.length / cols);
  const W = cols * cw;
  const H = rows * ch;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
  ];
  plots.forEach((p, i) => {
    const x = (i % cols) * cw;
    const y = Math.floor(i / cols) * ch;
    // Drop any XML prolog, make ids unique across panels, and position the panel's root element.
    let body = p.replace(/^\s*<\?xml[^>]*\?>\s*/, '').replace(/<!DOCTYPE[^>]*>\s*/i, '');
    body = body.replace(/\bid="([^"]*)"/g, `id="g${i}-$1"`).replace(/url\(#([^)]*)\)/g, `url(#g${i}-$1)`);
    body = body.replace(/\bhref="#([^"]*)"/g, `href="#g${i}-$1"`);
    body = body.replace(/<svg\b/, `<svg x="${x}" y="${y}"`);
    out.push(body.trim());
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Writes `content` to `file`, creating the parent directory (mkdir -p) first. */
export function writeFileEnsuringDir(file: string, content: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, content);
}
