import { defineSriTableau, sriOrderConditions, SriTableauSpec, SRI_ORDER_TOL } from '../../../src/solvers/sri/tableau';
import { sosri, sosri2, sriw1, SRI_TABLEAUS } from '../../../src/solvers/sri/tableaus';

const ALL = Object.values(SRI_TABLEAUS).map((t) => [t.name, t] as const);

const maxAbs = (xs: number[]): number => Math.max(...xs.map(Math.abs));
const rowSums = (M: readonly (readonly number[])[]): number[] => M.map((r) => r.reduce((a, b) => a + b, 0));

describe('SRI tableaus (Rößler strong order 1.5, diagonal noise)', () => {
  test.each(ALL)('%s satisfies all 25 order conditions', (name, tab) => {
    const conds = sriOrderConditions(tab);
    expect(conds).toHaveLength(25);
    const worst = maxAbs(conds.map((c) => c.residual));
    // Measured: sosri 4.4e-16, sosri2 1.2e-13 (condition 25, ½β1ᵀA1B0e + ⅓β3ᵀA1B0e), sriw1 1.1e-16.
    console.log(`${name}: max |order-condition residual| = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(name === 'sosri2' ? 5e-13 : 1e-14);
  });

  test.each(ALL)('%s: Σα = 1, Σβ1 = 1, rows of A0 and A1 sum to c0 and c1', (_, tab) => {
    expect(Math.abs(tab.alpha.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-14);
    expect(Math.abs(tab.beta1.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-14);
    expect(maxAbs(rowSums(tab.A0).map((r, i) => r - tab.c0[i]))).toBeLessThan(1e-14);
    expect(maxAbs(rowSums(tab.A1).map((r, i) => r - tab.c1[i]))).toBeLessThan(1e-14);
  });

  test("SRIW1 in exact fractions: Rößler's conditions hold to the last bit or two", () => {
    for (const c of sriOrderConditions(sriw1)) expect(Math.abs(c.residual)).toBeLessThanOrEqual(2 ** -52);
  });

  test('derived data: stages, evaluations per step, error weights, controller defaults', () => {
    expect(sosri).toMatchObject({ stages: 4, order: 1.5, delta: 1, errorDriftStages: 4, evaluationsPerStep: { drift: 4, diffusion: 4 } });
    expect(sosri.stiffnessStages).toBeUndefined();
    expect(sosri2).toMatchObject({ delta: 1, stiffnessStages: [2, 3], stabilitySize: 10.6, evaluationsPerStep: { drift: 4, diffusion: 4 } });
    // SRIW1: drift stage 3 sits at (t, y), a copy of stage 1; stage 4 has no weight anywhere.
    expect(sriw1).toMatchObject({ delta: 1 / 6, errorDriftStages: 2, evaluationsPerStep: { drift: 2, diffusion: 4 } });
    expect(sriw1.driftPlan).toEqual(['evaluate', 'evaluate', 'first', 'skip']);
    for (const tab of [sosri, sosri2, sriw1]) {
      expect(tab.controller.beta1).toBeCloseTo(7 / 15, 15);
      expect(tab.controller.beta2).toBeCloseTo(4 / 15, 15);
      expect(tab.controller).toMatchObject({ safety: 0.9, qmax: 9 / 8, qmin: 1 / 5, qoldinit: 1e-4 });
      expect(tab.tolerances).toEqual({ atol: 1e-2, rtol: 1e-2 });
    }
  });

  describe('the check rejects inconsistent data', () => {
    const spec: SriTableauSpec = sosri;
    const bump = (v: readonly number[], i: number, d: number): number[] => v.map((x, j) => (j === i ? x + d : x));

    test('a diffusion weight off by 1e-9 breaks an order condition (tolerance 1e-10)', () => {
      expect(SRI_ORDER_TOL).toBe(1e-10);
      expect(() => defineSriTableau({ ...spec, beta4: bump(spec.beta4, 3, 1e-9) })).toThrow(/order condition #5 \(β4ᵀe\)/);
      // Moving weight between two β2 entries keeps β2ᵀe = 0 but breaks a higher condition.
      expect(() => defineSriTableau({ ...spec, beta2: bump(bump(spec.beta2, 1, 1e-6), 2, -1e-6) })).toThrow(/order condition #\d+ \(β2ᵀ/);
    });

    test('an A0 entry changed with its c0 node breaks αᵀA0e = 1/2', () => {
      const A0 = spec.A0.map((r, i) => (i === 3 ? bump(r, 0, 1e-6) : r));
      const c0 = bump(spec.c0, 3, 1e-6);
      expect(() => defineSriTableau({ ...spec, A0, c0 })).toThrow(/order condition #10 \(αᵀA0e\)/);
    });

    test('Σα ≠ 1, row sums ≠ c, shapes, order, stiffness stages', () => {
      expect(() => defineSriTableau({ ...spec, alpha: bump(spec.alpha, 0, 1e-8) })).toThrow(/weights α sum to/);
      expect(() => defineSriTableau({ ...spec, c1: bump(spec.c1, 2, 1e-3) })).toThrow(/row 2 of A1 sums to .*, not c1\[2\]/);
      expect(() => defineSriTableau({ ...spec, B1: [[], [1], [1, 2], [1, 2, 3, 4]] })).toThrow(/row 3 of B1 must have 3 entries/);
      expect(() => defineSriTableau({ ...spec, beta3: [1, 2, 3] })).toThrow(/beta3 has 3 entries for 4 stages/);
      expect(() => defineSriTableau({ ...spec, order: 2 })).toThrow(/strong order 2 is not supported/);
      expect(() => defineSriTableau({ ...spec, stiffnessStages: [2, 3] })).toThrow(/same node c0/);
      expect(() => defineSriTableau({ ...spec, errorDriftStages: 5 })).toThrow(/errorDriftStages = 5/);
      expect(() => defineSriTableau({ ...sriw1, stiffnessStages: [0, 2] })).toThrow(/must be evaluated stages/);
    });
  });
});
