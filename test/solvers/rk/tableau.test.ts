import { defineTableau, orderConditionResiduals, getTableau, SOLVER_NAMES } from '../../../src';

describe('Butcher tableaus', () => {
  test.each(SOLVER_NAMES.map((n) => [n]))('%s satisfies every order condition of its order', (name) => {
    const tab = getTableau(name);
    for (const r of orderConditionResiduals(tab, tab.order)) expect(Math.abs(r)).toBeLessThan(1e-12);
  });

  test('adaptive tableaus: b + bError (an affine mix of the two solutions) keeps order ≥ order - 1', () => {
    for (const name of ['tsit5', 'dopri5', 'bosh3']) {
      const tab = getTableau(name);
      const bHat = tab.b.map((b, i) => b + tab.bError![i]);
      const res = orderConditionResiduals({ ...tab, b: bHat }, tab.order - 1);
      for (const r of res) expect(Math.abs(r)).toBeLessThan(1e-12);
      // ...and is genuinely of lower order: its error weights are not all zero.
      expect(tab.bError!.some((e) => e !== 0)).toBe(true);
    }
  });

  test('perturbing two weights breaks an order-5 condition (the check has teeth)', () => {
    const tab = getTableau('dopri5');
    const broken = { ...tab, b: tab.b.map((x, i) => (i === 2 ? x + 1e-6 : i === 3 ? x - 1e-6 : x)) };
    expect(Math.max(...orderConditionResiduals(broken, 5).map(Math.abs))).toBeGreaterThan(1e-8);
  });

  test('derived properties', () => {
    expect(getTableau('tsit5')).toMatchObject({ stages: 7, fsal: true, adaptive: true, order: 5 });
    expect(getTableau('tsit5').controller).toEqual({ beta1: 0.14, beta2: 0.08 });
    expect(getTableau('dopri5').controller.beta2).toBe(0.04);
    expect(getTableau('dopri5').controller.beta1).toBeCloseTo(0.17, 15);
    expect(getTableau('bosh3')).toMatchObject({ stages: 4, fsal: true, adaptive: true });
    expect(getTableau('bosh3').controller.beta1).toBeCloseTo(7 / 30, 15);
    expect(getTableau('rk4')).toMatchObject({ fsal: false, adaptive: false });
  });

  test('self-check rejects inconsistent data', () => {
    const good = { name: 'x', c: [0, 1], a: [[], [1]], b: [0.5, 0.5], order: 2 };
    expect(() => defineTableau(good)).not.toThrow();
    expect(() => defineTableau({ ...good, c: [0, 0.9] })).toThrow(/row 1 of a sums to 1, not c\[1\]/);
    expect(() => defineTableau({ ...good, b: [0.5, 0.6] })).toThrow(/weights b sum/);
    expect(() => defineTableau({ ...good, bError: [0.1, 0.2] })).toThrow(/error weights sum/);
    expect(() => defineTableau({ ...good, order: 3 })).toThrow(/order condition/);
    expect(() => defineTableau({ ...good, a: [[], [0.5, 0.5]] })).toThrow(/explicit/);
    expect(() => defineTableau({ ...good, stiffnessStages: [0, 1] })).toThrow(/same node/);
  });

  test('unknown solver names list the valid ones', () => {
    expect(() => getTableau('RK45')).toThrow("Unknown solver 'RK45'. Valid solvers: 'tsit5', 'dopri5', 'bosh3', 'euler', 'midpoint', 'rk4'.");
  });
});
