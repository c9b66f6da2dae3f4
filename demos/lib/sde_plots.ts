/**
 * Charts of the spiral SDE demo (vega-lite specs, rendered to SVG by `render_svg.ts`): the mean ± one
 * standard deviation band over time of each state component, for the data and for each trained model.
 */
import type { TopLevelSpec } from 'vega-lite';
import { chartGrid } from './plots';

/** Mean and standard deviation of one component at each time, for one series (data or a model). */
export interface MomentSeries {
  name: string;
  ts: number[];
  /** [time][component] */
  mean: number[][];
  std: number[][];
}

const COLORS = ['#444444', '#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/** One chart for component `c`: a translucent band mean ± std and the mean line per series. */
export function momentBandChart(series: MomentSeries[], c: number, opts: { title: string; width?: number; height?: number }): TopLevelSpec {
  const values = series.flatMap((s) =>
    s.ts.map((t, i) => ({ t, series: s.name, mean: s.mean[i][c], lo: s.mean[i][c] - s.std[i][c], hi: s.mean[i][c] + s.std[i][c] })),
  );
  const names = series.map((s) => s.name);
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: null,
    scale: { domain: names, range: names.map((_, i) => COLORS[i % COLORS.length]) },
    legend: { orient: 'bottom' as const, direction: 'vertical' as const, labelLimit: 600 },
  };
  const x = { field: 't', type: 'quantitative' as const, title: 't' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title,
    width: opts.width ?? 420,
    height: opts.height ?? 280,
    background: 'white',
    data: { values },
    layer: [
      {
        mark: { type: 'area', opacity: 0.18 },
        encoding: { x, y: { field: 'lo', type: 'quantitative', title: `u${c + 1}`, scale: { zero: false } }, y2: { field: 'hi' }, color },
      },
      { mark: { type: 'line', strokeWidth: 1.8 }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color } },
      { mark: { type: 'point', filled: true, size: 14 }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color } },
    ],
  } as TopLevelSpec;
}

/** Both components side by side. */
export function momentBands(series: MomentSeries[], title: string): TopLevelSpec {
  return chartGrid(
    [0, 1].map((c) => momentBandChart(series, c, { title: `u${c + 1}(t): mean ± std` })),
    2,
    title,
  );
}
