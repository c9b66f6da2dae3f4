/**
 * A node:test reporter that prints one line at the end, in the form CI greps for:
 *
 *     browser: 7 passed, 0 failed
 *
 * Used next to the spec reporter by `npm run test:browser`; suites are not counted, only tests.
 */
export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  let failedSuites = 0;
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.details?.type === 'suite') {
      if (event.type === 'test:fail') failedSuites++;
      continue;
    }
    if (event.type === 'test:pass' && !event.data.skip && !event.data.todo) passed++;
    if (event.type === 'test:fail') failed++;
  }
  // A suite can fail with no failing test of its own (a failing before() hook): count it then.
  if (failed === 0) failed = failedSuites;
  yield `browser: ${passed} passed, ${failed} failed\n`;
}
