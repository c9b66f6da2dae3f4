/**
 * Philox4x32-10 blocks in WebAssembly: the same function as `philox4x32` in prng.ts (checked against it and the
 * Random123 known-answer vectors in test/noise/philox_wasm.test.ts), about 3× faster than the JavaScript rounds,
 * which must build each 32×32 → 64-bit product from 16-bit pieces; WebAssembly has the 64-bit multiply.
 *
 * The module (256 bytes, written for this package) exports `memory` (one 64 KiB page) and
 * `philox(count, first, c1, c2, c3, k0, k1)`, which writes the four output words of the blocks with counters
 * (first + i, c1, c2, c3), i < count, under the key (k0, k1) to memory at byte 16·i. Its text form:
 *
 *   (func (param $count $first $c1 $c2 $c3 $k0 $k1 i32)
 *         (local $i $x0 $x1 $x2 $x3 $r $ka $kb i32) (local $p0 $p1 i64)
 *     (loop $blocks  (br_if $done (i32.ge_u $i $count))
 *       x0 = first + i; x1 = c1; x2 = c2; x3 = c3; ka = k0; kb = k1; r = 10
 *       (loop $rounds
 *         p0 = u64(x0) · 0xD2511F53;  p1 = u64(x2) · 0xCD9E8D57
 *         x0 = hi(p1) ^ x1 ^ ka;  x2 = hi(p0) ^ x3 ^ kb;  x1 = lo(p1);  x3 = lo(p0)
 *         ka += 0x9E3779B9;  kb += 0xBB67AE85
 *         (br_if $rounds (r -= 1)))
 *       store x0, x1, x2, x3 at 16·i; i += 1))
 */

/** The module's bytes, hex. */
const MODULE_HEX =
  '0061736d01000000010b0160077f7f7f7f7f7f7f00030201000503010001071302067068696c6f780000066d656d6f727902000aca0101c70102087f027e' +
  '4100210702400340200720004f0d01200120076a2108200221092003210a2004210b2005210d2006210e410a210c03402008ad42d3bec4920d7e210f20' +
  '0aad42d79afaec0c7e21102010422088a7200973200d732108200f422088a7200b73200e73210a2010a72109200fa7210b200d41b9f3ddf1796a210d20' +
  '0e4185dd9edb7b6a210e200c41016b220c0d000b20074104742008360200200741047420093602042007410474200a3602082007410474200b36020c20' +
  '0741016a21070c000b0b0b';

/** Blocks one call can write: the 64 KiB page holds 4096 blocks of 16 bytes. */
export const WASM_MAX_BLOCKS = 4096;

/** The instantiated module: `philox` and a view of the words it writes. */
export interface WasmPhilox {
  readonly philox: (count: number, first: number, c1: number, c2: number, c3: number, k0: number, k1: number) => void;
  readonly words: Int32Array;
}

let instance: WasmPhilox | null | undefined;

/**
 * The module, compiled once; null where WebAssembly is missing or refused (for example by a page's Content
 * Security Policy), in which case callers use the JavaScript rounds.
 */
export function wasmPhilox(): WasmPhilox | null {
  if (instance !== undefined) return instance;
  try {
    const bytes = new Uint8Array(MODULE_HEX.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(MODULE_HEX.slice(2 * i, 2 * i + 2), 16);
    const api = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
    const memory = api.memory as WebAssembly.Memory;
    instance = { philox: api.philox as WasmPhilox['philox'], words: new Int32Array(memory.buffer, 0, 4 * WASM_MAX_BLOCKS) };
  } catch {
    instance = null;
  }
  return instance;
}
