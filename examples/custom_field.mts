// The discrete adjoint on its own: gradients of a solve whose vector field is written with tf ops.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { discreteAdjoint } from 'tfjs-neural-de';

await tf.setBackend('cpu');

const x = tf.randomNormal([4, 3], 0, 1, 'float32', 5);
const W = tf.randomNormal([3, 3], 0, 0.5, 'float32', 6);
// f(t, y) = tanh(y·W); the parameters come in through `params` so that gradients reach them
const { op } = discreteAdjoint((_t, y, [W]) => tf.tanh(tf.matMul(y, W)), { tspan: [0, 1], solver: 'dopri5' });
const [dx, dW] = tf.grads((x: tf.Tensor, W: tf.Tensor) => tf.sum(op(x, W)))([x, W]); // op returns y(t1)
console.log('dL/dx shape', dx.shape, 'dL/dW shape', dW.shape);
console.log('|dL/dW| =', tf.norm(dW).dataSync()[0].toFixed(4));
