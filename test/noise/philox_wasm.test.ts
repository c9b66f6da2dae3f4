/**
 * The WebAssembly Philox4x32-10: the Random123 known answers, the same words as the JavaScript rounds for many
 * counters and keys, and CounterRNG giving the same bits on either engine (across the 4096-block chunks).
 */
import { WASM_MAX_BLOCKS, wasmPhilox } from '../../src/noise/philox_wasm';
import { CounterRNG, philox4x32 } from '../../src/noise/prng';
import { InvalidArgumentError } from '../../src/solvers/core/errors';
import { PHILOX_KAT } from '../support/philox_kat';

const wasm = wasmPhilox();

/** The four words of one block from the module, unsigned. */
function block(counter: readonly number[], key: readonly number[]): number[] {
  wasm!.philox(1, counter[0] | 0, counter[1] | 0, counter[2] | 0, counter[3] | 0, key[0] | 0, key[1] | 0);
  return Array.from(wasm!.words.subarray(0, 4), (x) => x >>> 0);
}

describe('wasmPhilox', () => {
  it('is available under Node and compiled once', () => {
    expect(wasm).not.toBeNull();
    expect(wasmPhilox()).toBe(wasm);
  });

  it('matches the Random123 known-answer vectors for Philox4x32-10', () => {
    for (const { counter, key, out } of PHILOX_KAT) expect(block(counter, key)).toEqual(out);
  });

  it('writes the same words as the JavaScript rounds for a run of counters under varied keys', () => {
    let x = 0x12345678;
    const next = (): number => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
    for (let trial = 0; trial < 20; trial++) {
      const [first, c1, c2, c3, k0, k1] = [next(), next(), next(), next(), next(), next()];
      const count = 1 + (next() % 64);
      wasm!.philox(count, first | 0, c1 | 0, c2 | 0, c3 | 0, k0 | 0, k1 | 0);
      const words = Array.from(wasm!.words.subarray(0, 4 * count), (w) => w >>> 0);
      const expected: number[] = [];
      for (let i = 0; i < count; i++) expected.push(...philox4x32([(first + i) >>> 0, c1, c2, c3], [k0, k1]));
      expect(words).toEqual(expected);
    }
  });
});

describe('CounterRNG engines', () => {
  it('gives the same normals and uniforms on WebAssembly and on JavaScript, past the 4096-block chunk', () => {
    const seed = 2 ** 40 + 17;
    const fast = new CounterRNG(seed);
    const js = new CounterRNG(seed, 'js');
    expect([fast.usesWasm, js.usesWasm]).toEqual([true, false]);
    const n = 4 * WASM_MAX_BLOCKS + 13;
    const [a, b] = [new Float64Array(n), new Float64Array(n)];
    fast.fillNormal(a, [3, 4, 5]);
    js.fillNormal(b, [3, 4, 5]);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    const [ra, rb] = [new Float64Array(30), new Float64Array(30)];
    fast.fillNormalRange(ra, n - 40, n - 10, [3, 4, 5]);
    js.fillNormalRange(rb, n - 40, n - 10, [3, 4, 5]);
    expect(Array.from(ra)).toEqual(Array.from(a.subarray(n - 40, n - 10)));
    expect(Array.from(rb)).toEqual(Array.from(ra));
    const [ua, ub] = [new Float64Array(2 * WASM_MAX_BLOCKS + 3), new Float64Array(2 * WASM_MAX_BLOCKS + 3)];
    fast.fillUniform(ua, [9, 9, 9]);
    js.fillUniform(ub, [9, 9, 9]);
    expect(Array.from(ua)).toEqual(Array.from(ub));
  });

  it('rejects an unknown engine', () => {
    expect(() => new CounterRNG(1, 'gpu' as 'js')).toThrow(InvalidArgumentError);
    expect(() => new CounterRNG(1, 'gpu' as 'js')).toThrow(/engine must be 'auto' or 'js', got gpu/);
  });
});
