/**
 * Dense output data for the adaptive methods. All three use only the step's own stages: for these
 * FSAL methods the last stage is f(t + dt, y1), so no extra evaluation is needed.
 *
 * Fixed-step methods (euler, midpoint, rk4) have no interpolant here; an integration loop should
 * step onto their output times (the user chose the grid).
 */
import { defineInterpolant, Interpolant } from '../interpolant';
import { ButcherTableau } from '../tableau';
import { bosh3 } from './bosh3';
import { dopri5 } from './dopri5';
import { tsit5 } from './tsit5';

/**
 * Rows (powers θ^0..θ^4) of b_i(θ) = θ·b_i + θ(1−θ)(δ_i1 − b_i) + θ²(1−θ)(2b_i − δ_i1 − δ_is) + θ²(1−θ)²·d_i,
 * s the last (FSAL) stage. With d = 0 this is cubic Hermite interpolation through (y, f(t, y)) and
 * (y1, f(t + dt, y1)); a nonzero d adds a quartic correction (Hairer–Nørsett–Wanner I, p. 192).
 */
function hermiteFormRows(b: readonly number[], d: readonly number[]): number[][] {
  const s = b.length;
  return b.map((bi, i) => {
    const first = i === 0 ? 1 : 0;
    const last = i === s - 1 ? 1 : 0;
    return [0, first, 3 * bi - 2 * first - last + d[i], -2 * bi + first + last - 2 * d[i], d[i]];
  });
}

/** Tsitouras's free 4th-order interpolant, coefficients r_ij of θ^j (Tsitouras 2011; OrdinaryDiffEq's Float64 values). */
export const tsit5Interpolant = defineInterpolant(tsit5, {
  order: 4,
  source: 'Tsitouras (2011), Comput. Math. Appl. 62, free 4th-order continuous extension',
  coefficients: [
    [0, 1.0, -2.763706197274826, 2.9132554618219126, -1.0530884977290216],
    [0, 0, 0.13169999999999998, -0.2234, 0.1017],
    [0, 0, 3.9302962368947516, -5.941033872131505, 2.490627285651253],
    [0, 0, -12.411077166933676, 30.33818863028232, -16.548102889244902],
    [0, 0, 37.50931341651104, -88.1789048947664, 47.37952196281928],
    [0, 0, -27.896526289197286, 65.09189467479366, -34.87065786149661],
    [0, 0, 1.5, -4, 2.5],
  ],
});

/** Shampine's (1986) quartic correction weights d_i of the Dormand–Prince dense output. */
const DOPRI5_D = [
  -12715105075 / 11282082432,
  0,
  87487479700 / 32700410799,
  -10690763975 / 1880347072,
  701980252875 / 199316789632,
  -1453857185 / 822651844,
  69997945 / 29380423,
];

/** Dormand–Prince 4th-order continuous extension from the 7 FSAL stages (Hairer–Nørsett–Wanner I, p. 192). */
export const dopri5Interpolant = defineInterpolant(dopri5, {
  order: 4,
  source: 'Shampine (1986), Math. Comp. 46; Hairer–Nørsett–Wanner I, §II.6 (DOPRI5 dense output)',
  coefficients: hermiteFormRows(dopri5.b, DOPRI5_D),
});

/** Cubic Hermite interpolation from y, y1, k1 = f(t, y) and k4 = f(t + dt, y1); order 3. */
export const bosh3Interpolant = defineInterpolant(bosh3, {
  order: 3,
  source: 'cubic Hermite interpolation on the step (as in Bogacki & Shampine 1989)',
  coefficients: hermiteFormRows(
    bosh3.b,
    bosh3.b.map(() => 0),
  ),
});

const INTERPOLANTS: Readonly<Record<string, Interpolant>> = Object.freeze({
  tsit5: tsit5Interpolant,
  dopri5: dopri5Interpolant,
  bosh3: bosh3Interpolant,
});

/** The dense output of a method, or `undefined` when it has none (then step onto output times). */
export function interpolantFor(tab: ButcherTableau | string): Interpolant | undefined {
  const name = typeof tab === 'string' ? tab : tab.name;
  return Object.prototype.hasOwnProperty.call(INTERPOLANTS, name) ? INTERPOLANTS[name] : undefined;
}
