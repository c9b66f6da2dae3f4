/** Small helpers for the demos' command-line arguments (parsed with node:util's parseArgs). */
import { chooseBackend } from './backend';

/** The number an option's string gives; an error naming the option otherwise. */
export function num(v: string, key: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`--${key} must be a number, got '${v}'.`);
  return n;
}

/** The runs a `--runs a,b` option names (all of `names` when absent); an error naming the valid ones otherwise. */
export function parseRuns<R extends string>(value: string | undefined, names: readonly R[]): R[] {
  const runs = value === undefined ? [...names] : value.split(',');
  for (const r of runs) {
    if (!(names as readonly string[]).includes(r)) throw new Error(`Unknown run '${r}'; choose from ${names.join(', ')}.`);
  }
  return runs as R[];
}

/** What each demo's `settingsFromArgs` returns. */
export interface ParsedArgs<S> {
  settings: S;
  backend: string | undefined;
  help: boolean;
}

/**
 * A demo's start: parses its arguments, prints `help` (and returns null) when asked for it, and
 * otherwise selects the backend.
 */
export async function startDemo<S>(parse: (argv: string[]) => ParsedArgs<S>, help: string): Promise<{ settings: S; backend: string } | null> {
  const { settings, backend: requested, help: wantsHelp } = parse(process.argv.slice(2));
  if (wantsHelp) {
    console.log(help);
    return null;
  }
  return { settings, backend: await chooseBackend(requested) };
}
