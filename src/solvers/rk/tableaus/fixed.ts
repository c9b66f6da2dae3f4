import { defineTableau } from '../tableau';

/** Forward Euler: one stage, order 1, fixed step. */
export const euler = defineTableau({ name: 'euler', c: [0], a: [[]], b: [1], order: 1 });

/** Explicit midpoint rule: two stages, order 2, fixed step. */
export const midpoint = defineTableau({ name: 'midpoint', c: [0, 1 / 2], a: [[], [1 / 2]], b: [0, 1], order: 2 });

/** The classical fourth-order Runge–Kutta method, fixed step. */
export const rk4 = defineTableau({
  name: 'rk4',
  c: [0, 1 / 2, 1 / 2, 1],
  a: [[], [1 / 2], [0, 1 / 2], [0, 0, 1]],
  b: [1 / 6, 1 / 3, 1 / 3, 1 / 6],
  order: 4,
});
