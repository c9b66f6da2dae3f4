/** Node side of the demos' charts: renders the vega-lite specs of `plots.ts` to SVG files, headlessly. */
import * as fs from 'fs';
import * as path from 'path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** The chart as a standalone SVG document (vega's headless renderer: no browser, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes `content` to `file`, creating the parent directory (mkdir -p) first. */
export function writeFileEnsuringDir(file: string, content: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, content);
}

/** Renders `spec` and writes it to `file` (parent directories created). */
export async function writeSvg(file: string, spec: TopLevelSpec): Promise<void> {
  writeFileEnsuringDir(file, await renderSvg(spec));
}
