/**
 * Counter-based, splittable pseudo-random numbers on the host: Philox4x32-10 (Salmon, Moraes, Dror & Shaw 2011,
 * "Parallel random numbers: as easy as 1, 2, 3", SC'11) and standard normals derived from it.
 *
 * A counter-based generator is a pure function of (key, counter): any draw can be recomputed on its own, in any
 * order. That is what a virtual Brownian tree needs: the randomness of a tree node is a function of the seed and
 * of the node's identity, not of the order in which nodes were visited. Here the 64-bit Philox key carries the
 * seed and the 128-bit counter carries a block index plus a three-word {@link StreamKey} naming the stream (for
 * example one node of a tree). Philox4x32-10 passes TestU01's BigCrush; distinct (seed, stream, block) triples
 * give statistically independent outputs.
 */
import { InvalidArgumentError } from '../errors';
import { WASM_MAX_BLOCKS, WasmPhilox, wasmPhilox } from './philox_wasm';
import { ZIGGURAT_LIMIT, ZIGGURAT_WIDTH, zigguratSlow } from './ziggurat';

/** Philox4x32 round multipliers and Weyl key increments (Salmon et al. 2011). */
const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const M0_LO = M0 & 0xffff;
const M0_HI = M0 >>> 16;
const M1_LO = M1 & 0xffff;
const M1_HI = M1 >>> 16;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const ROUNDS = 10;
const TWO32 = 4294967296;
/** 2^-53: a 53-bit integer times this lies in [0, 1). */
const TWO_NEG53 = 1.1102230246251565e-16;

// Module-level aliases: Jest (and other vm sandboxes) make each global lookup such as `Math.imul` slow.
const imul = Math.imul;
const floor = Math.floor;
const abs = Math.abs;

/** Largest accepted seed: seeds are integers in [0, 2^53 − 1], split into the two 32-bit Philox key words. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

/** Where {@link CounterRNG} runs the Philox rounds: 'auto' (WebAssembly when available) or 'js'. */
export type PhiloxEngine = 'auto' | 'js';

/**
 * Three 32-bit words that name one random stream under a seed (the fourth counter word is the block index inside
 * the stream). Words are taken modulo 2^32.
 */
export type StreamKey = readonly [number, number, number];

/** Whether `seed` is a valid seed: an integer in [0, 2^53 − 1]. */
export function isValidSeed(seed: unknown): seed is number {
  return typeof seed === 'number' && Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED;
}

/**
 * High 32 bits (as a signed int32 bit pattern) of the 64-bit product of the unsigned 32-bit values of `a` and of
 * the constant whose 16-bit halves are `mLo`, `mHi`. Schoolbook multiplication on 16-bit limbs, all in int32.
 */
function mulhi(a: number, mLo: number, mHi: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const ll = imul(aLo, mLo) >>> 0;
  const lh = imul(aLo, mHi) >>> 0;
  const hl = imul(aHi, mLo) >>> 0;
  const mid = ((ll >>> 16) + (lh & 0xffff) + (hl & 0xffff)) | 0;
  return (imul(aHi, mHi) + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
}

/** Round keys k + i·W (mod 2^32), i = 0..9, interleaved: they depend on the key only, so they are computed once. */
function roundKeys(k0: number, k1: number): Int32Array {
  const keys = new Int32Array(2 * ROUNDS);
  for (let i = 0; i < ROUNDS; i++) {
    keys[2 * i] = k0;
    keys[2 * i + 1] = k1;
    k0 = (k0 + W0) | 0;
    k1 = (k1 + W1) | 0;
  }
  return keys;
}

/** Ten Philox rounds on the counter (c0, c1, c2, c3); the four output words (int32 bit patterns) go to `out`. */
function philoxBlock(c0: number, c1: number, c2: number, c3: number, keys: Int32Array, out: Int32Array, at = 0): void {
  for (let i = 0; i < ROUNDS; i++) {
    const hi0 = mulhi(c0, M0_LO, M0_HI);
    const hi1 = mulhi(c2, M1_LO, M1_HI);
    const lo0 = imul(c0, M0);
    const lo1 = imul(c2, M1);
    c0 = hi1 ^ c1 ^ keys[2 * i];
    c1 = lo1;
    c2 = hi0 ^ c3 ^ keys[2 * i + 1];
    c3 = lo0;
  }
  out[at] = c0;
  out[at + 1] = c1;
  out[at + 2] = c2;
  out[at + 3] = c3;
}

/**
 * The Philox4x32-10 block function: four unsigned output words for a four-word counter and a two-word key.
 * Matches the Random123 known-answer vectors.
 */
export function philox4x32(counter: readonly [number, number, number, number], key: readonly [number, number]): [number, number, number, number] {
  const out = new Int32Array(4);
  philoxBlock(counter[0] | 0, counter[1] | 0, counter[2] | 0, counter[3] | 0, roundKeys(key[0] | 0, key[1] | 0), out);
  return [out[0] >>> 0, out[1] >>> 0, out[2] >>> 0, out[3] >>> 0];
}

/** The words of one normal's fallback stream (see `CounterRNG.fillNormal`), computed by the JavaScript rounds. */
class FallbackWords {
  private readonly words = new Int32Array(4);
  private k = 0;
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private block = 0;
  private used = 4;

  constructor(private readonly keys: Int32Array) {}

  /** Restarts at the first word of normal k's fallback stream under `stream` and returns the word source. */
  start(k: number, s0: number, s1: number, s2: number): () => number {
    this.k = k;
    this.s0 = s0 ^ 0x80000000;
    this.s1 = s1;
    this.s2 = s2;
    this.block = 0;
    this.used = 4;
    return this.next;
  }

  readonly next = (): number => {
    if (this.used === 4) {
      philoxBlock(this.k, this.s0, this.s1, this.s2 ^ (this.block++ << 16), this.keys, this.words);
      this.used = 0;
    }
    return this.words[this.used++];
  };
}

/**
 * A generator bound to one seed: fills arrays with standard normals or uniforms from named streams. It has no
 * state beyond precomputed round keys, so the same (seed, stream) always yields the same numbers.
 */
export class CounterRNG {
  /** The seed, an integer in [0, 2^53 − 1]. */
  readonly seed: number;
  private readonly k0: number;
  private readonly k1: number;
  private readonly keys: Int32Array;
  private readonly wasm: WasmPhilox | null;
  /** Output words of the JavaScript rounds (the WebAssembly module writes to its own memory). */
  private readonly jsWords: Int32Array | null;
  private readonly fallback: FallbackWords;

  /**
   * `seed`: an integer in [0, 2^53 − 1] ({@link isValidSeed}); anything else throws `InvalidArgumentError`.
   * `engine`: where the Philox rounds run, 'auto' (WebAssembly where the environment allows it, else JavaScript)
   * or 'js'; both give the same bits.
   */
  constructor(seed: number, engine: PhiloxEngine = 'auto') {
    if (!isValidSeed(seed)) {
      throw new InvalidArgumentError(`Seed must be an integer in [0, 2^53 − 1] (e.g. 0, 42 or Date.now()), got ${String(seed)}.`);
    }
    if (engine !== 'auto' && engine !== 'js') {
      throw new InvalidArgumentError(`CounterRNG engine must be 'auto' or 'js', got ${String(engine)}.`);
    }
    this.seed = seed;
    this.k0 = (seed % TWO32) | 0;
    this.k1 = floor(seed / TWO32) | 0;
    this.keys = roundKeys(this.k0, this.k1);
    this.wasm = engine === 'auto' ? wasmPhilox() : null;
    this.jsWords = this.wasm === null ? new Int32Array(4 * WASM_MAX_BLOCKS) : null;
    this.fallback = new FallbackWords(this.keys);
  }

  /** Whether the Philox rounds run in WebAssembly. */
  get usesWasm(): boolean {
    return this.wasm !== null;
  }

  /**
   * The blocks with counters (first + k, s0, s1, s2), k < count ≤ 4096: block k's words at 4k .. 4k + 3 of the
   * returned array (valid until the next call on any CounterRNG).
   */
  private blocks(first: number, count: number, s0: number, s1: number, s2: number): Int32Array {
    if (this.wasm !== null) {
      this.wasm.philox(count, first, s0, s1, s2, this.k0, this.k1);
      return this.wasm.words;
    }
    const words = this.jsWords!;
    for (let k = 0; k < count; k++) philoxBlock(first + k, s0, s1, s2, this.keys, words, 4 * k);
    return words;
  }

  /**
   * Fills `out` with independent standard normals from the stream `stream` by the ziggurat method
   * (ziggurat.ts), one normal per 32-bit word: the block with counter (b, stream) gives out[4b .. 4b + 3]. The
   * 1.5% of words that the fast path refuses continue with words of their own fallback stream, Philox blocks
   * (k, stream[0] ⊕ 2^31, stream[1], stream[2] ⊕ j·2^16) for normal k, j = 0, 1, …. So out[k] depends only on
   * (seed, stream, k): not on out.length nor on what was drawn before, and a caller that gives element i the
   * normals 2i and 2i + 1 gets draws that depend on the element's index, not on how many elements there are.
   */
  fillNormal(out: Float64Array, stream: StreamKey): void {
    this.fillNormalRange(out, 0, out.length, stream);
  }

  /**
   * As {@link fillNormal} for the indices [from, to) of the stream only: out[k − from] receives normal k of
   * the stream, so a caller can draw the normals of some elements without drawing the others.
   */
  fillNormalRange(out: Float64Array, from: number, to: number, stream: StreamKey): void {
    const s0 = stream[0] | 0;
    const s1 = stream[1] | 0;
    const s2 = stream[2] | 0;
    const limit = ZIGGURAT_LIMIT;
    const width = ZIGGURAT_WIDTH;
    const last = (to + 3) >> 2;
    for (let first = from >> 2; first < last; first += WASM_MAX_BLOCKS) {
      const count = Math.min(WASM_MAX_BLOCKS, last - first);
      const x = this.blocks(first, count, s0, s1, s2);
      const k0 = Math.max(from, 4 * first);
      const k1 = Math.min(to, 4 * (first + count));
      const shift = 4 * first;
      for (let k = k0; k < k1; k++) {
        const word = x[k - shift];
        const iz = word & 255;
        const hz = word >> 8;
        out[k - from] = abs(hz) < limit[iz] ? hz * width[iz] : zigguratSlow(word, this.fallback.start(k, s0, s1, s2));
      }
    }
  }

  /**
   * Fills `out` with independent uniforms in [0, 1) of 53-bit resolution from the stream `stream`: the block with
   * counter (p, stream) gives out[2p] and out[2p + 1].
   */
  fillUniform(out: Float64Array, stream: StreamKey): void {
    const n = out.length;
    const blocks = (n + 1) >> 1;
    for (let first = 0; first < blocks; first += WASM_MAX_BLOCKS) {
      const count = Math.min(WASM_MAX_BLOCKS, blocks - first);
      const x = this.blocks(first, count, stream[0] | 0, stream[1] | 0, stream[2] | 0);
      for (let k = 0; k < count; k++) {
        const i = 2 * (first + k);
        out[i] = ((x[4 * k] >>> 5) * 67108864 + (x[4 * k + 1] >>> 6)) * TWO_NEG53;
        if (i + 1 < n) out[i + 1] = ((x[4 * k + 2] >>> 5) * 67108864 + (x[4 * k + 3] >>> 6)) * TWO_NEG53;
      }
    }
  }
}

/**
 * mulberry32 (Tommy Ettinger's small 32-bit generator): the next 32-bit word of the stream seeded by
 * `seed`. Not for Brownian paths (use {@link CounterRNG}); for cheap reproducible choices such as a
 * regularizer's sampled time, and bit-identical to the common JavaScript version and to the peer
 * benchmarks' Python port.
 */
export function mulberry32Words(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = imul(a ^ (a >>> 15), a | 1);
    t = (t + imul(t ^ (t >>> 7), t | 61)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** mulberry32 as uniforms in [0, 1): word / 2^32. */
export function mulberry32(seed: number): () => number {
  const next = mulberry32Words(seed);
  return () => next() / TWO32;
}
