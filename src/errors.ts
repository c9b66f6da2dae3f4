/**
 * The error every module throws for bad arguments. It sits at the bottom of the layering (noise,
 * solvers, adjoint, regularizers, layers, callbacks all import it) and imports nothing.
 * `SolverError`, which carries a solve's statistics, lives with the solvers (`solvers/core/errors.ts`).
 */

/** Invalid options or arguments: the message names the offending value and the fix. */
export class InvalidArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidArgumentError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
