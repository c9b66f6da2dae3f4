/** Small helpers for the demos' command-line arguments (parsed with node:util's parseArgs). */

/** The number an option's string gives; an error naming the option otherwise. */
export function num(v: string, key: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`--${key} must be a number, got '${v}'.`);
  return n;
}
