/**
 * Which Brownian path each call of a NeuralSDE layer uses.
 *
 * Every element of the state has its own Wiener process, so within one call the rows of the batch are
 * independent. tfjs's `predict` and `evaluate` cut a batch into pieces (32 rows by default) and call the
 * layer once per piece, synchronously, so a seeded layer must give each piece its own path, or rows i
 * and i + 32 of a batch would share their noise. The rule, for a layer with a seed:
 *
 * - **Inference.** The calls made in one synchronous run (one `predict` or `evaluate`, however tfjs cuts
 *   the batch) are numbered 0, 1, 2, ...; call k uses the path `inferenceSeed(seed, k)` (call 0: the seed
 *   itself). The numbering restarts at the first call after the event loop turns (after any `await`),
 *   or explicitly with `restartInference()`. So `model.predict(x)` returns the same values every time,
 *   also after save/load, for the same `batchSize`.
 * - **Training.** The k-th training call since construction uses `derivedSeed(seed, k)`: each batch of
 *   `fit` sees new noise, and a run that repeats the same calls sees the same noise.
 *
 * Without a seed every call draws a fresh random path.
 */
import { philox4x32 } from '../noise/prng';
import { randomSeed } from '../solvers/options';

/** Philox counter words that keep the training and inference seed streams apart. */
const TRAINING_STREAM = 0x5d3e;
const INFERENCE_STREAM = 0x1f3a;

function seedFromStream(seed: number, k: number, stream: number): number {
  const [a, b] = philox4x32([k >>> 0, Math.floor(k / 2 ** 32) >>> 0, stream, 0], [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0]);
  return (a >>> 11) * 2 ** 32 + (b >>> 0);
}

/** The seed of the k-th training call of a layer seeded with `seed`: 53 bits of Philox4x32 at counter k. */
export function derivedSeed(seed: number, k: number): number {
  return seedFromStream(seed, k, TRAINING_STREAM);
}

/** The seed of the k-th inference call of a synchronous run (k = 0: `seed` itself). */
export function inferenceSeed(seed: number, k: number): number {
  return k === 0 ? seed : seedFromStream(seed, k, INFERENCE_STREAM);
}

/** The path seeds of one layer's calls; see the module comment for the rule. */
export class PathSeeds {
  /** Training calls so far (the k of the derived seeds). */
  trainingCalls = 0;
  private inferenceCalls = 0;
  private runOpen = false;

  /** `seed` undefined: every call draws a fresh path. */
  constructor(readonly seed: number | undefined) {}

  /** The seed of the next call's path. */
  next(training: boolean): number {
    if (this.seed === undefined) return randomSeed();
    if (training) return derivedSeed(this.seed, this.trainingCalls++);
    if (!this.runOpen) {
      // The first inference call of a synchronous run: number this run's calls from 0.
      this.runOpen = true;
      this.inferenceCalls = 0;
      queueMicrotask(() => {
        this.runOpen = false;
      });
    }
    return inferenceSeed(this.seed, this.inferenceCalls++);
  }

  /** Makes the next inference call use the seed itself again (call 0 of a new run). */
  restartInference(): void {
    this.inferenceCalls = 0;
  }
}
