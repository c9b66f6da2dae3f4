/** Which Brownian path each call of a seeded NeuralSDE uses: training and inference streams, runs, restarts. */
import { derivedSeed, inferenceSeed, PathSeeds } from '../../src/layers/path_seeds';

test('inference calls of one synchronous run get distinct seeds; a new run (after an await) starts again', async () => {
  const p = new PathSeeds(42);
  const run1 = [p.next(false), p.next(false), p.next(false)];
  expect(run1[0]).toBe(42);
  expect(new Set(run1).size).toBe(3);
  expect(run1).toEqual([0, 1, 2].map((k) => inferenceSeed(42, k)));
  await Promise.resolve();
  expect([p.next(false), p.next(false), p.next(false)]).toEqual(run1);
  p.restartInference();
  expect(p.next(false)).toBe(42);
});

test('training calls count on across runs and use a stream apart from inference', async () => {
  const p = new PathSeeds(7);
  const a = p.next(true);
  await Promise.resolve();
  const b = p.next(true);
  expect([a, b]).toEqual([derivedSeed(7, 0), derivedSeed(7, 1)]);
  expect(p.trainingCalls).toBe(2);
  const training = new Set(Array.from({ length: 100 }, (_, k) => derivedSeed(7, k)));
  const inference = Array.from({ length: 100 }, (_, k) => inferenceSeed(7, k + 1));
  expect(training.size).toBe(100);
  expect(inference.filter((s) => training.has(s))).toEqual([]);
  for (const s of [...training, ...inference]) expect(Number.isSafeInteger(s) && s >= 0).toBe(true);
});

test('without a seed every call draws a fresh one', () => {
  const p = new PathSeeds(undefined);
  expect(new Set([p.next(false), p.next(false), p.next(true)]).size).toBe(3);
});
