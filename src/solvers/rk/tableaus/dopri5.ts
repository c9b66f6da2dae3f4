import { defineTableau } from '../tableau';

/**
 * Dormand–Prince 5(4) (Dormand & Prince 1980). Seven stages, FSAL; error weights are b − b̂.
 * PI exponents follow OrdinaryDiffEq's DP5 defaults (beta2 = 0.04, beta1 = 1/5 − 3·beta2/4).
 */
const b = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0];

export const dopri5 = defineTableau({
  name: 'dopri5',
  c: [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1],
  a: [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    b.slice(0, 6),
  ],
  b,
  bError: [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40],
  order: 5,
  stiffnessStages: [5, 6],
  stabilitySize: 3.3066,
  controller: { beta1: 1 / 5 - (3 * 0.04) / 4, beta2: 0.04 },
});
