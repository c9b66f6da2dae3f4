/** The README's examples (files in examples/) run as written, importing the package by its name. */
import { execFileSync } from 'child_process';
import * as path from 'path';

const root = path.resolve(__dirname, '../..');

/** Runs one example with tsx (the tsconfig maps 'tfjs-neural-de' to src/) and returns its stdout. */
function runExample(file: string): string {
  return execFileSync(process.execPath, [require.resolve('tsx/cli'), '--tsconfig', 'examples/tsconfig.json', path.join('examples', file)], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('neural_ode.mts trains a NeuralODE with fit and reports NFE and a small test error', () => {
  const out = runExample('neural_ode.mts');
  expect(out).toMatch(/forward NFE per epoch: (\d+\.\d )+/);
  const mse = Number(/test MSE ([\d.]+) at (\d+) NFE per solve/.exec(out)![1]);
  expect(mse).toBeLessThan(0.01);
});

test('neural_sde.mts trains a NeuralSDE classifier and averages logits over paths', () => {
  const out = runExample('neural_sde.mts');
  const losses = /training loss per epoch: ([\d.]+) ([\d.]+) ([\d.]+)/.exec(out)!;
  expect(Number(losses[3])).toBeLessThan(0.85 * Number(losses[1]));
  expect(out).toMatch(/logits of the first image, mean over 10 paths:( -?\d+\.\d\d){10}/);
});

test('custom_field.mts differentiates a tf-ops vector field with the discrete adjoint', () => {
  const out = runExample('custom_field.mts');
  expect(out).toMatch(/dL\/dx shape \[ 4, 3 \] dL\/dW shape \[ 3, 3 \]/);
  expect(out).toMatch(/\|dL\/dW\| = \d+\.\d{4}/);
});

test('latent_ode.mts trains a latent ODE on [observations, times] with a masked loss and interpolates on a finer grid', () => {
  const out = runExample('latent_ode.mts');
  const m = /training loss \(masked MSE \+ KL\): ([\d.]+) → ([\d.]+)/.exec(out)!;
  expect(Number(m[2])).toBeLessThan(0.5 * Number(m[1]));
  expect(out).toMatch(/interpolated shape \[ 2, 50, 1 \]/);
});
