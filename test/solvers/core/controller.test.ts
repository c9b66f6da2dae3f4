/** The PI controller: OrdinaryDiffEq's rule, its limits, non-finite errors, shortened steps and its tolerances. */
import { ODE_CONTROLLER_LIMITS, PIController } from '../../../src/solvers/core/controller';

const beta1 = 7 / 50;
const beta2 = 2 / 25;

describe('PIController', () => {
  test('accepts E ≤ 1 with dt / clamp(E^β1 / qold^β2 / safety, 1/qmax, 1/qmin), remembering E as qold', () => {
    const c = new PIController({ beta1, beta2 });
    const first = c.decide(0.5, 0.1);
    // qold starts at qoldinit = 1e-4
    const q1 = Math.min(5, Math.max(0.1, 0.5 ** beta1 / 1e-4 ** beta2 / 0.9));
    expect(first).toEqual({ accept: true, dtNext: 0.1 / q1 });
    const second = c.decide(0.25, 0.2);
    const q2 = Math.min(5, Math.max(0.1, 0.25 ** beta1 / 0.5 ** beta2 / 0.9));
    expect(second.dtNext).toBeCloseTo(0.2 / q2, 15);
  });

  test('rejects E > 1 with dt / min(1/qmin, E^β1 / safety); growth is capped at qmax and dtmax', () => {
    const c = new PIController({ beta1, beta2, dtmax: 0.3 });
    const r = c.decide(4, 0.1);
    expect(r.accept).toBe(false);
    expect(r.dtNext).toBeCloseTo(0.1 / Math.min(5, 4 ** beta1 / 0.9), 15);
    expect(c.decide(0, 0.01).dtNext).toBeCloseTo(0.01 * ODE_CONTROLLER_LIMITS.qmax, 15);
    expect(c.decide(0, 0.1).dtNext).toBe(0.3);
    expect(new PIController({ beta1, beta2, qmax: 9 / 8 }).decide(0, 0.1).dtNext).toBeCloseTo(0.1125, 15);
  });

  test('a NaN or infinite error is a rejection with the largest shrink (qmin)', () => {
    const c = new PIController({ beta1, beta2, qmin: 0.25 });
    expect(c.decide(NaN, 0.1)).toEqual({ accept: false, dtNext: 0.025 });
    expect(c.decide(Infinity, 0.1)).toEqual({ accept: false, dtNext: 0.025 });
  });

  test('an accepted shortened step keeps the remembered error (the next proposal is as if it had not happened)', () => {
    const a = new PIController({ beta1, beta2 });
    const b = new PIController({ beta1, beta2 });
    a.decide(0.8, 0.1);
    b.decide(0.8, 0.1);
    b.decide(1e-6, 0.001, true); // a tiny step cut to land on an output time
    expect(b.decide(0.5, 0.1)).toEqual(a.decide(0.5, 0.1));
    // an ordinary step with the same tiny error does change the memory
    const c = new PIController({ beta1, beta2 });
    const d = new PIController({ beta1, beta2 });
    c.decide(0.8, 0.1);
    d.decide(0.8, 0.1);
    c.decide(1e-6, 0.001);
    // (a remembered tiny error divides by qold^β2: the next step would come out less than half as long)
    expect(c.decide(0.5, 0.1).dtNext).toBeLessThan(0.5 * d.decide(0.5, 0.1).dtNext);
  });

  test('owns its tolerances: given ones, or the ODE defaults (rtol 1e-3, atol 1e-6)', () => {
    expect(new PIController({ beta1, beta2, rtol: 1e-2, atol: 1e-4 }).tolerances).toEqual({ rtol: 1e-2, atol: 1e-4 });
    expect(new PIController({ beta1, beta2 }).tolerances).toEqual({ rtol: 1e-3, atol: 1e-6 });
  });
});
