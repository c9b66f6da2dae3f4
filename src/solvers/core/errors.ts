import { SolveStats, copyStats, formatStats } from './stats';

// Defined at the bottom of the layering (noise and the solvers both throw it); re-exported here,
// where it was first defined, so that existing imports keep working.
export { InvalidArgumentError } from '../../errors';

export type SolverErrorCode = 'non_finite_state' | 'non_finite_derivative' | 'dt_below_dtmin' | 'dt_underflow' | 'max_steps' | 'bad_derivative';

/** A solve that failed part-way. Carries the statistics so far and the time reached. */
export class SolverError extends Error {
  readonly code: SolverErrorCode;
  readonly stats: SolveStats;
  readonly t: number;

  constructor(code: SolverErrorCode, message: string, stats: SolveStats, t: number) {
    super(`${message} (at t=${t}; ${formatStats(stats)})`);
    this.name = 'SolverError';
    this.code = code;
    this.stats = copyStats(stats);
    this.t = t;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
