/** Regularizers by name and from serialized configs. */
import * as tf from '@tensorflow/tfjs-core';
import { deserializeObject, isSerialized, SerializedObject } from '../serialization';
import { InvalidArgumentError } from '../errors';
import { SolverRegularizer } from './base';
import { ErrorEstimateRegularizer } from './error_estimate';
import { LocalErrorEstimateRegularizer } from './local';
import { StiffnessRegularizer } from './stiffness';

/** Short names accepted in a layer's `regularizers` option (with default settings). */
export const REGULARIZER_NAMES = ['errorEstimate', 'stiffness', 'localErrorEstimate'] as const;
export type RegularizerName = (typeof REGULARIZER_NAMES)[number];

export type RegularizerSpec = SolverRegularizer | RegularizerName | SerializedObject;

const isRegularizer = (x: unknown): x is SolverRegularizer => x instanceof SolverRegularizer;

export function toRegularizer(spec: unknown, customObjects?: tf.serialization.ConfigDict): SolverRegularizer {
  if (isRegularizer(spec)) return spec;
  if (typeof spec === 'string') {
    switch (spec) {
      case 'errorEstimate':
        return new ErrorEstimateRegularizer();
      case 'stiffness':
        return new StiffnessRegularizer();
      case 'localErrorEstimate':
        return new LocalErrorEstimateRegularizer();
      default:
        throw new InvalidArgumentError(
          `Unknown regularizer '${spec}'. Valid names: ${REGULARIZER_NAMES.map((n) => `'${n}'`).join(', ')} (or pass an instance, e.g. errorEstimate({weight: 100})).`,
        );
    }
  }
  if (isSerialized(spec)) return deserializeObject(spec, isRegularizer, 'regularizer', customObjects);
  throw new InvalidArgumentError(`A regularizer must be a name, an instance or {className, config}; got ${typeof spec}.`);
}
