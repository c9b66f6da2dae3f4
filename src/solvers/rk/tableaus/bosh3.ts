import { defineTableau } from '../tableau';

/** Bogacki–Shampine 3(2). Four stages, FSAL; error weights are b − b̂. No two stages share a node, so no stiffness estimate. */
export const bosh3 = defineTableau({
  name: 'bosh3',
  c: [0, 1 / 2, 3 / 4, 1],
  a: [[], [1 / 2], [0, 3 / 4], [2 / 9, 1 / 3, 4 / 9]],
  b: [2 / 9, 1 / 3, 4 / 9, 0],
  bError: [2 / 9 - 7 / 24, 1 / 3 - 1 / 4, 4 / 9 - 1 / 3, -1 / 8],
  order: 3,
});
