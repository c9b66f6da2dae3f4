/** The Brownian path interface's helpers: the type guard, the allocating query and the shared checks. */
import { BrownianTree } from '../../src/noise/brownian';
import { BrownianInterval } from '../../src/noise/brownian_interval';
import { checkPathOptions, checkQuery, isBrownianPath, newIncrement, shapeSize } from '../../src/noise/path';
import { InvalidArgumentError } from '../../src/solvers/core/errors';

const opts = { seed: 4, t0: 0, t1: 2, shape: [2, 3] };

describe('BrownianPath helpers', () => {
  it('recognises both samplers as paths and rejects look-alikes', () => {
    expect(isBrownianPath(new BrownianTree(opts))).toBe(true);
    expect(isBrownianPath(new BrownianInterval(opts))).toBe(true);
    expect(isBrownianPath(null)).toBe(false);
    expect(isBrownianPath({ ...opts, size: 6 })).toBe(false);
    expect(isBrownianPath({ ...opts, t1: 0, size: 6, increment: () => 0, incrementInto: () => 0 })).toBe(false);
  });

  it('newIncrement allocates what incrementInto writes', () => {
    const path = new BrownianInterval(opts);
    const a = newIncrement(path, 0.5, 1.5);
    const dW = new Float64Array(6);
    const H = new Float64Array(6);
    path.incrementInto(0.5, 1.5, dW, H);
    expect(Array.from(a.dW)).toEqual(Array.from(dW));
    expect(Array.from(a.H)).toEqual(Array.from(H));
    expect(shapeSize([])).toBe(1);
    expect(shapeSize([2, 3])).toBe(6);
  });

  it('names the class in option errors and the path in query errors', () => {
    expect(() => checkPathOptions('MyPath', { ...opts, dt: 1 } as typeof opts, ['seed', 't0', 't1', 'shape'])).toThrow(
      /Unknown MyPath option 'dt'. Valid options: seed, t0, t1, shape/,
    );
    expect(() => checkPathOptions('MyPath', null as unknown as typeof opts, [])).toThrow(/MyPath options must be an object/);
    const path = new BrownianTree(opts);
    expect(() => checkQuery(path, 'widget', 1, 3)).toThrow(InvalidArgumentError);
    expect(() => checkQuery(path, 'widget', 1, 3)).toThrow(/outside the widget's span \[0, 2\]; build the widget with/);
    expect(() => checkQuery(path, 'widget', 0, 1, new Float64Array(6), new Float64Array(5))).toThrow(/length 6 \(the widget's size\)/);
    expect(() => checkQuery(path, 'widget', 0, 1, new Float64Array(6), new Float64Array(6))).not.toThrow();
  });
});
