/**
 * For the root tsconfig only. It resolves modules the `node10` way, which cannot see this package's
 * own name, so the browser page's `import … from 'tfjs-neural-de'` would not resolve there. The page
 * is type-checked for real by demos/browser/tsconfig.json (bundler resolution, the name mapped to
 * src/), which `npm run typecheck` also runs and which does not include this file.
 */
declare module 'tfjs-neural-de';
