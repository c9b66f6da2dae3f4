/**
 * A hand-written pullback for vector fields made of Dense layers (and the package's `Power`).
 *
 * The discrete adjoint spends most of its backward pass in vector–Jacobian products of the field.
 * Through tfjs autodiff each one re-runs the field under a tape and walks the tape, several times
 * the cost of a plain call of a small MLP. For a Dense stack the pullback is short:
 *   pre = x·W + b,  out = σ(pre)    ⇒    d_pre = ct ⊙ σ'(·),  dW = xᵀ·d_pre,  db = Σ_rows d_pre,
 *   dx = d_pre·Wᵀ
 * with the forward keeping the layer inputs, outputs and (where σ' needs them) pre-activations.
 * Derivatives follow the conventions of tfjs's registered gradients at kinks (relu'(0) = 0, the
 * clip window of hardSigmoid closed at both ends, …), so results equal tfjs autodiff up to rounding.
 *
 * Inputs of any rank ≥ 2 are handled like Dense does: every layer acts on the last axis, so the
 * state is flattened to [rows, features] once and reshaped back at the end. With a time-dependent
 * stack the time t is appended as a last input feature to every layer; its kernel row gets a
 * gradient, while dy excludes the time column.
 *
 * The Dense layers' weights and activation are private fields of tfjs-layers, read through
 * `denseLayerParts` (`../tfjs_internals.ts`). Element-wise power layers (the package's `Power`)
 * are recognised by class: `layers/power.ts` registers its class with `registerPowerLayer`, so
 * this module does not depend on the layers it differentiates.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '../errors';
import { DenseActivation, DenseLayerParts, denseLayerParts, registeredClass, runKernel } from '../tfjs_internals';
import { appendTime, FieldWithVjp } from './field_vjp';
import { matMulT } from './matmul';
import { tanh } from './tanh';

type FusedActivation = 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid';

/** How one activation is evaluated and differentiated. */
interface ActivationRule {
  /** Evaluated inside the fused matMul kernel; then only the output is kept (σ' is read from it). */
  readonly fused?: FusedActivation;
  /** Evaluates σ in place of the layer's own activation (a faster kernel for the same function). */
  readonly apply?: (pre: tf.Tensor) => tf.Tensor;
  /** ct ⊙ σ'(pre) for elementwise σ (the Jacobian-transpose product for softmax), from pre and out = σ(pre). */
  grad(ct: tf.Tensor, pre: tf.Tensor, out: tf.Tensor): tf.Tensor;
}

/** SELU constants (Klambauer et al. 2017), as tfjs uses them. */
const SELU_SCALE = 1.0507009873554805;
const SELU_SCALE_ALPHA = 1.7580993408473768;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const GELU_NEW_CUBIC = 0.044715;

const mask = (m: tf.Tensor): tf.Tensor => tf.cast(m, 'float32');

/**
 * Every activation registered by tfjs-layers 4.22 (`activations.js`): name → rule. An activation
 * outside this table (e.g. a user-registered class) makes `denseFieldVjp` fall back (null).
 */
const RULES: Readonly<Record<string, ActivationRule>> = {
  linear: { fused: 'linear', grad: (ct) => ct },
  relu: { fused: 'relu', grad: (ct, _pre, y) => tf.mul(ct, tf.step(y)) },
  // Dense computes min(6, relu(x)); tfjs's gradient of that passes where 0 < x and relu(x) < 6.
  relu6: { fused: 'relu6', grad: (ct, _pre, y) => tf.mul(ct, mask(tf.logicalAnd(tf.greater(y, 0), tf.less(y, 6)))) },
  // The kernel tfjs's own elu gradient runs (dy where y ≥ 0, dy·(y + 1) elsewhere).
  elu: { fused: 'elu', grad: (ct, _pre, y) => runKernel('EluGrad', { dy: ct, y }) },
  sigmoid: { fused: 'sigmoid', grad: (ct, _pre, y) => tf.mul(ct, tf.mul(y, tf.sub(1, y))) },
  tanh: { apply: tanh, grad: (ct, _pre, y) => tf.mul(ct, tf.sub(1, tf.square(y))) },
  selu: {
    grad: (ct, x) => tf.where(tf.greater(x, 0), tf.mul(ct, SELU_SCALE), tf.mul(tf.mul(ct, SELU_SCALE_ALPHA), tf.exp(x))),
  },
  softplus: { grad: (ct, x) => tf.mul(ct, tf.sigmoid(x)) },
  softsign: { grad: (ct, x) => tf.div(ct, tf.square(tf.add(tf.abs(x), 1))) },
  // clip(0.2·x + 0.5, 0, 1): slope 0.2 on the closed window 0 ≤ 0.2·x + 0.5 ≤ 1.
  hardSigmoid: {
    grad: (ct, x) => {
      const u = tf.add(0.5, tf.mul(0.2, x));
      return tf.mul(tf.mul(ct, 0.2), mask(tf.logicalAnd(tf.greaterEqual(u, 0), tf.lessEqual(u, 1))));
    },
  },
  // y = x·s(x), s = sigmoid: y' = s + y·(1 − s).
  swish: {
    grad: (ct, x, y) => {
      const s = tf.sigmoid(x);
      return tf.mul(ct, tf.add(s, tf.mul(y, tf.sub(1, s))));
    },
  },
  // y = x·tanh(softplus(x)): y' = th + x·(1 − th²)·sigmoid(x).
  mish: {
    grad: (ct, x) => {
      const th = tf.tanh(tf.softplus(x));
      return tf.mul(ct, tf.add(th, tf.mul(tf.mul(x, tf.sub(1, tf.square(th))), tf.sigmoid(x))));
    },
  },
  // y = x·Φ(x): y' = Φ(x) + x·φ(x), Φ(x) = (1 + erf(x/√2))/2, φ(x) = exp(−x²/2)/√(2π).
  gelu: {
    grad: (ct, x) => {
      const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
      const pdf = tf.mul(tf.exp(tf.mul(-0.5, tf.square(x))), INV_SQRT_2PI);
      return tf.mul(ct, tf.add(cdf, tf.mul(x, pdf)));
    },
  },
  // y = x·(1 + tanh(u))/2, u = √(2/π)·(x + 0.044715·x³):
  // y' = (1 + th)/2 + x·(1 − th²)·√(2/π)·(1 + 3·0.044715·x²)/2.
  gelu_new: {
    grad: (ct, x) => {
      const x2 = tf.square(x);
      const th = tf.tanh(tf.mul(SQRT_2_OVER_PI, tf.add(x, tf.mul(GELU_NEW_CUBIC, tf.mul(x2, x)))));
      const du = tf.mul(SQRT_2_OVER_PI, tf.add(1, tf.mul(3 * GELU_NEW_CUBIC, x2)));
      const d = tf.add(tf.mul(0.5, tf.add(1, th)), tf.mul(tf.mul(0.5, x), tf.mul(tf.sub(1, tf.square(th)), du)));
      return tf.mul(ct, d);
    },
  },
  // Softmax over the last axis: dx = y ⊙ (ct − Σ_last ct ⊙ y).
  softmax: { grad: (ct, _x, y) => tf.mul(y, tf.sub(ct, tf.sum(tf.mul(ct, y), -1, true))) },
  // Log-softmax over the last axis: dx = ct − exp(y)·Σ_last ct.
  logSoftmax: { grad: (ct, _x, y) => tf.sub(ct, tf.mul(tf.exp(y), tf.sum(ct, -1, true))) },
};

/** The activation names `denseFieldVjp` differentiates by hand. */
export const DENSE_VJP_ACTIVATIONS: readonly string[] = Object.keys(RULES);

// The built-in activation classes, captured when this module loads (after tfjs-layers registered
// them), so that a class registered later under the same name is not mistaken for a built-in.
const BUILTIN_ACTIVATIONS = new Map(DENSE_VJP_ACTIVATIONS.map((n) => [n, registeredClass(n)?.[0]] as const));

/** What `denseFieldVjp` reads of a stack of layers (`LayerStack` in `layers/vector_field.ts` is one). */
export interface DenseVjpStack {
  readonly layers: readonly tfl.layers.Layer[];
  /** Whether t is appended as a last input feature to every layer. */
  readonly timeDependent: boolean;
}

/** A stateless layer computing x^p element-wise for an integer p ≥ 1 (the package's `Power`). */
export interface PowerLayer {
  readonly exponent: number;
  call(x: tf.Tensor): tf.Tensor;
}

/** Classes registered with `registerPowerLayer`; a layer is matched by its exact class. */
const POWER_CLASSES = new Set<unknown>();

/**
 * Lets `denseFieldVjp` differentiate instances of `cls` (not of its subclasses) as element-wise
 * powers x^exponent. Called by `layers/power.ts` when it defines `Power`.
 */
export function registerPowerLayer(cls: abstract new (...args: never[]) => tfl.layers.Layer & PowerLayer): void {
  POWER_CLASSES.add(cls);
}

function isPowerLayer(layer: tfl.layers.Layer): layer is tfl.layers.Layer & PowerLayer {
  return POWER_CLASSES.has(layer.constructor);
}

/** One layer evaluated on 2-D input: its output and its pullback. */
interface LayerEval {
  out: tf.Tensor;
  /** Cotangent of the layer input (all columns, time included) and the layer's trainable-weight gradients. */
  pullback(ct: tf.Tensor, dropTimeColumn: boolean): { dx: tf.Tensor; dParams: tf.Tensor[] };
}

type LayerPlan = (x: tf.Tensor) => LayerEval;

function densePlan(layer: tfl.layers.Layer, d: DenseLayerParts, activation: DenseActivation, rule: ActivationRule): LayerPlan {
  return (x) => {
    if (d.kernel === null) {
      throw new InvalidArgumentError(
        `Dense layer '${layer.name}' of the vector field is not built: build the stack (LayerStack.build(features) or call the NeuralODE once) before taking its VJP.`,
      );
    }
    const kernelVar = d.kernel;
    const biasVar = d.bias;
    const W = kernelVar.read();
    const b = biasVar?.read();
    let pre: tf.Tensor;
    let out: tf.Tensor;
    if (rule.fused !== undefined) {
      out = tf.fused.matMul({ a: x, b: W, bias: b, activation: rule.fused });
      pre = out; // not read by fused rules
    } else {
      pre = tf.fused.matMul({ a: x, b: W, bias: b });
      out = rule.apply ? rule.apply(pre) : activation.apply(pre);
    }
    const weights = layer.trainableWeights;
    return {
      out,
      pullback(ct, dropTimeColumn) {
        const dPre = rule.grad(ct, pre, out);
        const dParams = weights.map((w) => {
          if (w === kernelVar) return matMulT(x, dPre, true, false);
          if (w === biasVar) return tf.sum(dPre, 0);
          throw new Error(`tfjs-neural-de: Dense layer '${layer.name}' has an unexpected trainable weight '${w.name}'.`);
        });
        const [nIn, nOut] = W.shape;
        const Wz = dropTimeColumn ? tf.slice(W, [0, 0], [nIn - 1, nOut]) : W;
        return { dx: matMulT(dPre, Wz, false, true), dParams };
      },
    };
  };
}

function powerPlan(layer: PowerLayer): LayerPlan {
  const p = layer.exponent;
  return (x) => ({
    out: layer.call(x),
    pullback(ct, dropTimeColumn) {
      // d(x^p) = p·x^(p−1)
      let dx = ct;
      if (p > 1) {
        let xp = x;
        for (let i = 2; i < p; i++) xp = tf.mul(xp, x);
        dx = tf.mul(ct, tf.mul(xp, p));
      }
      if (dropTimeColumn) dx = tf.slice(dx, [0, 0], [-1, (x.shape[1] as number) - 1]);
      return { dx, dParams: [] };
    },
  });
}

function planFor(layer: tfl.layers.Layer): LayerPlan | null {
  if (isPowerLayer(layer)) return powerPlan(layer);
  const d = denseLayerParts(layer);
  if (d === null) return null;
  const activation = d.activation;
  if (activation === undefined) return null;
  const name = activation.getClassName();
  const rule = RULES[name];
  if (rule === undefined || activation.constructor !== BUILTIN_ACTIVATIONS.get(name)) return null;
  return densePlan(layer, d, activation, rule);
}

/**
 * The field f(t, y) = stack.call(t, y) with a hand-written pullback, or null when some layer is
 * neither a `tf.layers.dense` with a built-in activation (see `DENSE_VJP_ACTIVATIONS`) nor a
 * `Power` layer (then use `autodiffFieldVjp`). Weights are read at each evaluation, so the result
 * follows training. dParams follow `stack.trainableWeights` (frozen layers contribute none).
 * Tensors kept for the pullback belong to the caller's `tf.tidy` scope.
 */
export function denseFieldVjp(stack: DenseVjpStack): FieldWithVjp | null {
  const plans: LayerPlan[] = [];
  for (const layer of stack.layers) {
    const plan = planFor(layer);
    if (plan === null) return null;
    plans.push(plan);
  }
  const timeDependent = stack.timeDependent;
  return (t, y) => {
    if (y.rank < 2) {
      throw new InvalidArgumentError(`The vector field needs states of shape [batch, ...features]; got shape [${y.shape}]. Add a batch axis.`);
    }
    const evals: LayerEval[] = [];
    let z = y.rank === 2 ? y : tf.reshape(y, [-1, y.shape[y.rank - 1]]);
    for (const plan of plans) {
      const e = plan(timeDependent ? appendTime(z, t) : z);
      evals.push(e);
      z = e.out;
    }
    const value = y.rank === 2 ? z : tf.reshape(z, [...y.shape.slice(0, -1), -1]);
    return {
      value,
      pullback: (ct) =>
        tf.tidy(() => {
          let c = ct.rank === 2 ? ct : tf.reshape(ct, [-1, ct.shape[ct.rank - 1]]);
          const perLayer: tf.Tensor[][] = [];
          for (let i = evals.length - 1; i >= 0; i--) {
            const { dx, dParams } = evals[i].pullback(c, timeDependent);
            perLayer[i] = dParams;
            c = dx;
          }
          return { dy: tf.reshape(c, y.shape), dParams: perLayer.flat() };
        }),
    };
  };
}
