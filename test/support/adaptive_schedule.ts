/**
 * The attempted steps of a simulated adaptive solve on [t0, t1], for exercising Brownian paths without a solver
 * (tests and bench/brownian.ts): about 10% of attempts are rejected and retried at half the step, accepted steps
 * grow by 10 to 30% up to h0, and a step never passes t1. The same `seed` gives the same decisions.
 */
import { mulberry32 } from '../../src/noise/prng';

export interface AdaptiveSchedule {
  /** Every attempted [t, t + h], in order. */
  readonly attempts: [number, number][];
  /** Whether each attempt was accepted. */
  readonly accepted: boolean[];
}

export function adaptiveSchedule(t0: number, t1: number, h0: number, seed: number): AdaptiveSchedule {
  const rnd = mulberry32(seed);
  const attempts: [number, number][] = [];
  const accepted: boolean[] = [];
  let t = t0;
  let h = h0;
  while (t < t1) {
    const u = Math.min(t + h, t1);
    attempts.push([t, u]);
    const ok = rnd() >= 0.1;
    accepted.push(ok);
    if (!ok) {
      h *= 0.5;
      continue;
    }
    t = u;
    h = Math.min(h0, h * (1.1 + 0.2 * rnd()));
  }
  return { attempts, accepted };
}
