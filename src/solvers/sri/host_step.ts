/**
 * The forward SRI step on host arrays (cpu and wasm, small states): the same stage plan as `sriStep`
 * (`sriStages`) in `hostOps`, whose float32 rounding matches tfjs's kernels, so the new state has the same bits
 * as the tensor step the discrete adjoint replays. The estimates are plain numbers: the error norm accumulates in
 * float64 (the replay's in float32, which differs in the last digits), the stiffness estimate follows the rule of
 * the tensor step's mask.
 */
import * as tf from '@tensorflow/tfjs-core';
import { linearCombination, plainRms, scaledRms } from '../core/host_kernels';
import { Tolerances, VectorField } from '../core/stepper';
import { hostOps } from './ops';
import { checkArgsShapes, checkOutput, sriStages } from './step';
import { SriTableau } from './tableau';

export interface HostSriStep {
  readonly y1: tf.Tensor;
  /** Scaled error estimate EEst (NaN when y1 is not finite; undefined when not requested). */
  readonly error: number | undefined;
  /** Stiffness estimate, or 0 where the ratio is float32 noise (when requested and the method has one). */
  readonly stiffness: number | undefined;
  /** Whether every element of y1 is finite. */
  readonly finite: boolean;
}

/** Reads what a field returns for a host state (the tensors made for the call are freed). */
function hostField(tab: SriTableau, what: 'drift' | 'diffusion', fn: VectorField, y: tf.Tensor): (t: number, v: Float32Array) => Float32Array {
  return (t, v) => {
    const arg = tf.tensor(v, y.shape, 'float32');
    try {
      const out = checkOutput(tab, what, fn(t, arg), y);
      try {
        return out.dataSync() as Float32Array;
      } finally {
        if (out !== arg) out.dispose();
      }
    } finally {
      arg.dispose();
    }
  };
}

function allFinite(x: Float32Array): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) return false;
  return true;
}

function difference(a: Float32Array, b: Float32Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

/** One SRI step from (t, y) with the increments dW and dZ (2√3·H) as host arrays; see `sriStep`. */
export function sriStepHost(
  tab: SriTableau,
  f: VectorField,
  g: VectorField,
  t: number,
  y: tf.Tensor,
  h: number,
  dW: Float32Array,
  dZ: Float32Array,
  tol: Tolerances,
  want: { readonly error?: boolean; readonly stiffness?: boolean } = {},
): HostSriStep {
  checkArgsShapes(tab, y, h, dW.length, dZ.length);
  const y0 = y.dataSync() as Float32Array;
  const { y1, E2, k, H0 } = sriStages(hostOps, tab, hostField(tab, 'drift', f, y), hostField(tab, 'diffusion', g, y), t, y0, h, dW, dZ);
  const finite = allFinite(y1);
  let error: number | undefined;
  if (want.error) {
    const acc = new Float64Array(y0.length);
    const ks = k.slice(0, tab.errorDriftStages) as Float32Array[];
    linearCombination(
      acc,
      E2,
      ks.map(() => tab.delta * h),
      ks,
    );
    error = finite ? scaledRms(acc, y0, y1, tol.atol, tol.rtol) : NaN;
  }
  let stiffness: number | undefined;
  if (want.stiffness && tab.stiffnessStages) {
    const [p, q] = tab.stiffnessStages;
    const num = plainRms(difference(k[q] as Float32Array, k[p] as Float32Array));
    const den = plainRms(difference(H0[q] as Float32Array, H0[p] as Float32Array));
    const scale = plainRms(H0[q] as Float32Array);
    // the rule of the tensor step's mask, on mean squares: finite, positive and above float32 rounding of H0_q
    const reliable = Number.isFinite(num) && Number.isFinite(den) && den > 0 && den * den > 1e-10 * scale * scale;
    stiffness = reliable ? num / den : 0;
  }
  return { y1: tf.tensor(y1, y.shape, 'float32'), error, stiffness, finite };
}
