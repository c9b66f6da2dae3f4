/** The one options resolver: defaults from the method's record, the controller's settings, kind-specific rules. */
import { resolveOptions } from '../../src/solvers/options';
import { odeMethod, sdeMethod } from '../../src/solvers/registry';

describe('resolveOptions', () => {
  test('ODE defaults come from the method record: tolerances, controller exponents and limits, dtmax = |tspan|', () => {
    const o = resolveOptions({ tspan: [0, 2], solver: 'dopri5' });
    expect(o.kind).toBe('ode');
    expect(o.method).toBe(odeMethod('dopri5'));
    expect(o.controller).toEqual({ ...odeMethod('dopri5').controller, rtol: 1e-3, atol: 1e-6, dtmax: 2 });
    expect(o.controller.qmax).toBe(10);
    expect(o.saveatMode).toBe('interpolate');
    expect(resolveOptions({ solver: 'rk4', dt0: 0.1 }).saveatMode).toBe('step');
  });

  test('SDE defaults: tolerances 1e-2, qmax 9/8 unless overridden (into the controller), δ from the method', () => {
    const o = resolveOptions({ seed: 3 }, 'sde');
    expect(o.kind).toBe('sde');
    expect(o.method).toBe(sdeMethod('sosri'));
    expect(o.controller).toMatchObject({ rtol: 1e-2, atol: 1e-2, qmax: 9 / 8, dtmax: 1 });
    expect(o.delta).toBe(1);
    expect(resolveOptions({ qmax: 2, rtol: 0.1 }, 'sde').controller).toMatchObject({ qmax: 2, rtol: 0.1, atol: 1e-2 });
    expect(resolveOptions({ adaptive: false, dt0: 0.1 }, 'sde')).toMatchObject({ adaptive: false, delta: undefined });
  });

  test('the shared checks read the same for both kinds; the kind-specific ones name the kind', () => {
    for (const kind of ['ode', 'sde'] as const) {
      expect(() => resolveOptions({ rtol: -1 }, kind as 'sde')).toThrow(/Option 'rtol' must be a finite positive number, got -1/);
      expect(() => resolveOptions({ saveat: [0.5, 0.2] }, kind as 'sde')).toThrow(/'saveat' must be strictly increasing/);
    }
    expect(() => resolveOptions({ solver: 'sosri' as never })).toThrow(/Unknown solver 'sosri'\. Valid solvers: 'tsit5'/);
    expect(() => resolveOptions({ solver: 'tsit5' as never }, 'sde')).toThrow(/Unknown SDE solver 'tsit5'\. Valid SDE solvers: 'sosri'/);
    expect(() => resolveOptions({ tspan: [1, 0] }, 'sde')).toThrow(/SDE solves run forward in time only/);
    expect(() => resolveOptions({ qmax: 2 } as never)).toThrow(/Unknown option 'qmax'/);
    expect(() => resolveOptions({ rtoll: 1 } as never, 'sde')).toThrow(/did you mean 'rtol'/);
  });
});
