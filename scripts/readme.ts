/**
 * Rewrites the generated blocks of README.md and RESULTS.md (see readme_blocks.ts).
 *
 *   npm run readme                          # from the committed results/*.json and examples/
 *   npm run readme -- --from-demo-output    # first copy each demo's demo-output/.../results.json into results/
 */
import * as fs from 'fs';
import * as path from 'path';
import { RESULT_DEMOS, resultsFile, syncAndFormat } from './readme_blocks';

const root = path.resolve(__dirname, '..');
if (process.argv.includes('--from-demo-output')) {
  for (const source of RESULT_DEMOS) {
    const from = path.join(root, source.demoOutput);
    if (!fs.existsSync(from)) {
      console.log(`${source.demo}: no ${source.demoOutput} (run the demo first); keeping ${resultsFile(source.demo)}`);
      continue;
    }
    fs.copyFileSync(from, path.join(root, resultsFile(source.demo)));
    console.log(`${source.demo}: ${source.demoOutput} → ${resultsFile(source.demo)}`);
  }
}
async function main(): Promise<void> {
  for (const file of ['README.md', 'RESULTS.md']) {
    const full = path.join(root, file);
    const before = fs.readFileSync(full, 'utf8');
    const after = syncAndFormat(before, root, file);
    if (after !== before) fs.writeFileSync(full, after);
    console.log(`${file}: ${after === before ? 'up to date' : 'rewritten'}`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
