/**
 * Standard normals from 32-bit words by the ziggurat method (Marsaglia & Tsang 2000, "The ziggurat method for
 * generating random variables", J. Stat. Softw. 5(8)), 256 layers. One word gives one normal: its low 8 bits pick
 * the layer and its high 24 bits (a signed integer, |value| ≤ 2^23) the point inside it, so the layer and the
 * value never share bits (the flaw Doornik 2005 found in the original code). 98.5% of words are accepted by one
 * comparison and one multiplication; the others (a layer's edge, or the tail beyond R = 3.654) take the exact
 * rejection steps with fresh words from a caller-supplied source. The law is exact up to the 2^-23 grid of each
 * layer's width (spacing ≤ 4.4e-7 in the normal's value).
 */

const LAYERS = 256;
/** Start of the tail and area of each layer (Marsaglia & Tsang's constants for 256 layers). */
const R = 3.6541528853610088;
const AREA = 4.92867323399e-3;
/** The value's scale: |value| < 2^23. */
const SCALE = 8388608;
const TWO_NEG32 = 2.3283064365386963e-10;
// Module-level aliases: Jest (and other vm sandboxes) make each global lookup such as `Math.abs` slow.
const abs = Math.abs;
const exp = Math.exp;
const log = Math.log;

/** Fast-path thresholds (in value units), layer widths per value unit, and the density at each layer's edge. */
const KN = new Float64Array(LAYERS);
const WN = new Float64Array(LAYERS);
const FN = new Float64Array(LAYERS);
{
  let dn = R;
  let tn = dn;
  const q = AREA / Math.exp(-0.5 * dn * dn);
  KN[0] = (dn / q) * SCALE;
  KN[1] = 0;
  WN[0] = q / SCALE;
  WN[LAYERS - 1] = dn / SCALE;
  FN[0] = 1;
  FN[LAYERS - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = LAYERS - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(AREA / dn + Math.exp(-0.5 * dn * dn)));
    KN[i + 1] = (dn / tn) * SCALE;
    tn = dn;
    FN[i] = Math.exp(-0.5 * dn * dn);
    WN[i] = dn / SCALE;
  }
}

/**
 * The fast path, for callers to inline in their loops: with iz = word & 255 and hz = word >> 8, the normal is
 * hz·ZIGGURAT_WIDTH[iz] when |hz| < ZIGGURAT_LIMIT[iz]; otherwise call {@link zigguratSlow}.
 */
export const ZIGGURAT_LIMIT: Readonly<Float64Array> = KN;
export const ZIGGURAT_WIDTH: Readonly<Float64Array> = WN;

/** A uniform in (0, 1) from a 32-bit word. */
function uniform(word: number): number {
  return ((word >>> 0) + 0.5) * TWO_NEG32;
}

/**
 * The normal of `word` when the fast path refused it: the exact edge and tail steps, drawing further words from
 * `next` (each a 32-bit integer) as often as the rejections need.
 */
export function zigguratSlow(word: number, next: () => number): number {
  let iz = word & 255;
  let hz = word >> 8;
  for (;;) {
    if (iz === 0) {
      // The tail |x| > R (Marsaglia 1964): x = R + e1/R with e1, e2 exponential, accepted when 2·e2 > (e1/R)².
      let x: number;
      let y: number;
      do {
        x = -log(uniform(next())) / R;
        y = -log(uniform(next()));
      } while (y + y < x * x);
      return hz > 0 ? R + x : -R - x;
    }
    const x = hz * WN[iz];
    if (FN[iz] + uniform(next()) * (FN[iz - 1] - FN[iz]) < exp(-0.5 * x * x)) return x;
    const w = next();
    iz = w & 255;
    hz = w >> 8;
    if (abs(hz) < KN[iz]) return hz * WN[iz];
  }
}
