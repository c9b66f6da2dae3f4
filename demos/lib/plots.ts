/**
 * The demos' charts as vega-lite specifications: one definition for both places they are drawn.
 * Node writes them as SVG files through vega (`render_svg.ts`); the browser page draws the same
 * specs live with vega-embed. Nothing here touches Node or the DOM.
 */
import type { TopLevelSpec } from 'vega-lite';

/** One point of a line chart. */
export interface LinePoint {
  x: number;
  y: number;
  /** Legend entry and colour. */
  series: string;
  /** Separate polylines inside one series (e.g. one per trajectory); default: one line per series and style. */
  line?: string;
  /** Line style (a second legend; values listed in `dashed` are drawn dashed); default: solid. */
  style?: string;
  /** Position along the line, for curves that are not functions of x (trajectories); default: x order. */
  order?: number;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Plot area in pixels; default 520 × 320. */
  width?: number;
  height?: number;
  /** Logarithmic y axis; points with y ≤ 0 are left out. */
  logY?: boolean;
  /** Same data units per pixel on both axes (for phase-plane plots). */
  equalAspect?: boolean;
  /** x is a count (epochs): integer ticks only. */
  integerX?: boolean;
  /** Draw a marker at every data point: for all series (true) or the listed ones. */
  markers?: boolean | string[];
  /** Fixed colours by series name; the others get vega's category colours. */
  colors?: Record<string, string>;
  /** Style values drawn dashed (see `LinePoint.style`). */
  dashed?: string[];
}

const DEFAULT_WIDTH = 520;
const DEFAULT_HEIGHT = 320;
const DASH = [6, 4];

/** The points that can be drawn: finite x and y, and y > 0 on a log axis. */
export function plottable(points: LinePoint[], logY = false): LinePoint[] {
  return points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!logY || p.y > 0));
}

/**
 * Scale domains with the same units per pixel on both axes: the data ranges centred, padded by
 * 4%, and the one needing less room widened to the other's scale.
 */
export function equalAspectDomains(points: LinePoint[], width: number, height: number): { x: [number, number]; y: [number, number] } {
  const range = (vs: number[]): [number, number] => {
    if (vs.length === 0) return [-1, 1];
    let lo = Math.min(...vs);
    let hi = Math.max(...vs);
    if (!(hi > lo)) {
      const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
      lo -= d;
      hi += d;
    }
    return [lo, hi];
  };
  const [x0, x1] = range(points.map((p) => p.x));
  const [y0, y1] = range(points.map((p) => p.y));
  const pad = 1.08;
  const unitsPerPixel = Math.max(((x1 - x0) * pad) / width, ((y1 - y0) * pad) / height);
  const xc = (x0 + x1) / 2;
  const yc = (y0 + y1) / 2;
  const xs = (unitsPerPixel * width) / 2;
  const ys = (unitsPerPixel * height) / 2;
  return { x: [xc - xs, xc + xs], y: [yc - ys, yc + ys] };
}

/** Series names in order of first appearance. */
function seriesOf(points: LinePoint[]): string[] {
  return [...new Set(points.map((p) => p.series))];
}

/**
 * A line chart: colour by `series`, dash by `style`, one polyline per `line`, drawn in `order`.
 * Non-finite points (and y ≤ 0 on a log axis) are left out.
 */
export function lineChart(points: LinePoint[], opts: LineChartOptions): TopLevelSpec {
  const width = opts.width ?? DEFAULT_WIDTH;
  const height = opts.height ?? DEFAULT_HEIGHT;
  const values = plottable(points, opts.logY).map((p, i) => ({
    x: p.x,
    y: p.y,
    series: p.series,
    line: p.line ?? '',
    style: p.style ?? '',
    order: p.order ?? i,
  }));
  const names = seriesOf(points);
  const fixed = opts.colors ?? {};
  const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  let next = 0;
  const colors = names.map((n) => fixed[n] ?? palette[next++ % palette.length]);
  const styles = [...new Set(values.map((v) => v.style))];
  const dashed = new Set(opts.dashed ?? []);
  const domains = opts.equalAspect && !opts.logY ? equalAspectDomains(plottable(points), width, height) : undefined;
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    title: opts.xLabel,
    scale: domains ? { domain: domains.x, nice: false, zero: false } : { zero: false },
    ...(opts.integerX ? { axis: { tickMinStep: 1, format: 'd' } } : {}),
  };
  const y = {
    field: 'y',
    type: 'quantitative' as const,
    title: opts.yLabel,
    scale: domains ? { domain: domains.y, nice: false, zero: false } : opts.logY ? { type: 'log' as const } : { zero: false },
  };
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: null,
    scale: { domain: names, range: colors },
    legend: names.length > 1 ? { orient: 'bottom' as const, direction: 'vertical' as const, labelLimit: 600 } : null,
  };
  // Dashes: none when no point has a style; by series (merged into the colour legend) when every
  // style names its series; otherwise by style, with a legend of its own.
  const bySeries = values.every((v) => v.style === '' || v.style === v.series);
  const dashDomain = bySeries ? names : styles;
  const strokeDash = values.every((v) => v.style === '')
    ? undefined
    : {
        field: bySeries ? 'series' : 'style',
        type: 'nominal' as const,
        title: null,
        scale: { domain: dashDomain, range: dashDomain.map((s) => (dashed.has(s) ? DASH : [1, 0])) },
        legend: bySeries ? color.legend : { orient: 'bottom' as const },
      };
  const markers = opts.markers ?? false;
  const layers: object[] = [
    {
      mark: { type: 'line', strokeWidth: 1.8, clip: true },
      encoding: { x, y, color, ...(strokeDash ? { strokeDash } : {}), detail: { field: 'line' }, order: { field: 'order', type: 'quantitative' } },
    },
  ];
  if (markers !== false) {
    layers.push({
      ...(Array.isArray(markers) ? { transform: [{ filter: { field: 'series', oneOf: markers } }] } : {}),
      mark: { type: 'point', filled: true, size: 22, clip: true },
      encoding: { x, y, color },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title,
    width,
    height,
    background: 'white',
    data: { values },
    layer: layers,
  } as TopLevelSpec;
}

/** Charts side by side, `columns` per row, as one spec (one SVG file, one embedded view). */
export function chartGrid(charts: TopLevelSpec[], columns: number, title?: string): TopLevelSpec {
  if (!(columns >= 1) || !Number.isInteger(columns)) throw new Error(`chartGrid: columns must be a positive integer, got ${columns}`);
  const inner = charts.map((c) => {
    const rest: Record<string, unknown> = { ...c };
    delete rest.$schema;
    delete rest.background;
    return rest;
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    ...(title ? { title } : {}),
    background: 'white',
    columns,
    concat: inner,
    resolve: {
      scale: { color: 'independent', strokeDash: 'independent' },
      legend: { color: 'independent', strokeDash: 'independent' },
    },
  } as unknown as TopLevelSpec;
}

/** Per-epoch curves, one series per run (training loss, NFE, accuracy). */
export function epochChart(runs: { name: string; values: number[]; style?: string }[], opts: Omit<LineChartOptions, 'equalAspect'>): TopLevelSpec {
  const points: LinePoint[] = runs.flatMap((r) =>
    r.values.map((v, i) => ({ x: i + 1, y: v, series: r.name, style: r.style, line: `${r.name}/${r.style ?? ''}` })),
  );
  return lineChart(points, { integerX: true, ...opts });
}

/** True (dashed, grey) and learned (red, marked at the observation times) trajectories in the phase plane. */
export function trajectoryChart(
  truth: number[][][],
  learned: number[][][],
  opts: { title: string; learnedLabel: string; width?: number; height?: number },
): TopLevelSpec {
  const points: LinePoint[] = [];
  const add = (trajs: number[][][], series: string): void =>
    trajs.forEach((traj, i) => traj.forEach((p, k) => points.push({ x: p[0], y: p[1], series, style: series, line: `${series}/${i}`, order: k })));
  add(truth, 'true');
  add(learned, opts.learnedLabel);
  return lineChart(points, {
    title: opts.title,
    xLabel: 'y1',
    yLabel: 'y2',
    width: opts.width ?? 360,
    height: opts.height ?? 300,
    equalAspect: true,
    markers: [opts.learnedLabel],
    colors: { true: '#444444', [opts.learnedLabel]: '#d62728' },
    dashed: ['true'],
  });
}
