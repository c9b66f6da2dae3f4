/** Statistics of one solve: counts and, per accepted step, its size and the solver's estimates. */
export interface SolveStats {
  /** Number of vector-field evaluations actually made (`f` calls). */
  nfe: number;
  /** Attempted steps (accepted + rejected). */
  nSteps: number;
  nAccepted: number;
  nRejected: number;
  /** Initial step size actually used (signed). */
  dtInitial: number;
  /** Start time of each accepted step. */
  t: number[];
  /** Signed size of each accepted step. */
  dt: number[];
  /**
   * Scaled local error estimate E_j of each accepted step: the RMS over all elements (the whole
   * batch) of `err / (atol + max(|y_n|, |y_{n+1}|)·rtol)`. Empty for fixed-step methods.
   */
  errorEstimate: number[];
  /**
   * Stiffness estimate S_j = ‖k_q − k_p‖ / ‖g_q − g_p‖ of each accepted step (an estimate of the
   * dominant eigenvalue magnitude). Computed only when asked (`estimateStiffness`, or a layer's
   * stiffness regularizer; SDE methods always report it); empty otherwise and for methods without
   * two stages at the same node.
   */
  stiffnessEstimate: number[];
}

export function emptyStats(): SolveStats {
  return {
    nfe: 0,
    nSteps: 0,
    nAccepted: 0,
    nRejected: 0,
    dtInitial: NaN,
    t: [],
    dt: [],
    errorEstimate: [],
    stiffnessEstimate: [],
  };
}

export function copyStats(s: SolveStats): SolveStats {
  return {
    ...s,
    t: s.t.slice(),
    dt: s.dt.slice(),
    errorEstimate: s.errorEstimate.slice(),
    stiffnessEstimate: s.stiffnessEstimate.slice(),
  };
}

export function formatStats(s: SolveStats): string {
  return `nfe=${s.nfe}, accepted=${s.nAccepted}, rejected=${s.nRejected}`;
}
