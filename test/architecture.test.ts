/**
 * The layering of src/ (README "Layout"): each top-level module imports only from its own rank or below, tfjs
 * internals stay in src/tfjs_internals.ts, and there are no double casts that hide a type mismatch.
 */
import * as fs from 'fs';
import * as path from 'path';

const SRC = path.resolve(__dirname, '..', 'src');
/** Bottom to top. A folder or root file not listed here fails the test: give it a rank. */
const RANK: Record<string, number> = {
  'errors.ts': 0,
  'tfjs_internals.ts': 0,
  'serialization.ts': 0,
  noise: 0,
  solvers: 1,
  adjoint: 2,
  regularizers: 3,
  layers: 4,
  callbacks: 5,
  io: 5,
  'index.ts': 6,
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const files = sourceFiles(SRC);
const unit = (file: string): string => path.relative(SRC, file).split(path.sep)[0];
const rel = (file: string): string => path.relative(SRC, file);

test('every module of src/ has a rank, and no import points up the layering', () => {
  const problems: string[] = [];
  for (const f of files) {
    const from = unit(f);
    if (RANK[from] === undefined) problems.push(`${rel(f)}: unranked module '${from}'`);
    const text = fs.readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\(\s*|require\(\s*)'(\.[^']+)'/g)) {
      const target = path.resolve(path.dirname(f), m[1]);
      const to = unit(fs.existsSync(`${target}.ts`) ? `${target}.ts` : target);
      if (RANK[to] === undefined) problems.push(`${rel(f)} imports unranked '${m[1]}'`);
      else if (RANK[to] > RANK[from]) problems.push(`${rel(f)} (${from}) imports up: '${m[1]}' (${to})`);
    }
  }
  expect(problems).toEqual([]);
});

test('tfjs internals (deep imports, engine state, kernels by name, private fields) appear only in src/tfjs_internals.ts', () => {
  const internal = /@tensorflow\/[a-z-]+\/dist\/|\bdataId\b|tf\.engine\(\)|\bENGINE\b|runKernel\(|classNameMap/;
  const offenders = files.filter((f) => rel(f) !== 'tfjs_internals.ts' && internal.test(fs.readFileSync(f, 'utf8').replace(/^\s*(\/\/|\*).*$/gm, '')));
  // runKernel is allowed through the internals module's own export
  expect(offenders.filter((f) => !/import \{[^}]*runKernel[^}]*\} from '[./]+tfjs_internals'/.test(fs.readFileSync(f, 'utf8'))).map(rel)).toEqual([]);
});

test("no 'as unknown as' double casts in src/", () => {
  expect(files.filter((f) => fs.readFileSync(f, 'utf8').includes('as unknown as')).map(rel)).toEqual([]);
});

test('inside solvers/: core/ imports no method family, rk/ and sri/ import only core/ (and each other not at all)', () => {
  // solvers/core (the stepper contract, loop, controller) < solvers/rk, solvers/sri (method families) < solvers/*.ts
  // (registry, options, solve entry points)
  const SOLVERS = path.join(SRC, 'solvers');
  const part = (file: string): string => {
    const r = path.relative(SOLVERS, file).split(path.sep);
    return r.length === 1 ? 'entry' : r[0];
  };
  const allowed: Record<string, string[]> = { core: ['core'], rk: ['core', 'rk'], sri: ['core', 'sri'], entry: ['core', 'rk', 'sri', 'entry'] };
  const problems: string[] = [];
  for (const f of files.filter((x) => x.startsWith(SOLVERS + path.sep))) {
    const text = fs.readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\(\s*)'(\.[^']+)'/g)) {
      const target = path.resolve(path.dirname(f), m[1]);
      if (!target.startsWith(SOLVERS + path.sep)) continue;
      const to = part(fs.existsSync(`${target}.ts`) ? `${target}.ts` : target);
      if (!allowed[part(f)].includes(to)) problems.push(`${rel(f)} imports '${m[1]}' (${to})`);
    }
  }
  expect(problems).toEqual([]);
});
