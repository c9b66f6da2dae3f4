/**
 * Browser tests of the demo page (demos/browser/), in Debian's Chromium driven headless by
 * playwright-core. Run by `npm run test:browser`, which builds the package and the page first;
 * not part of jest's run (the file name does not end in .test.ts).
 *
 * On each backend (cpu, wasm, webgl): a short training run lowers the loss of both models, the NFE
 * is reported, the results table is filled, the page shows no error, and saving to IndexedDB and
 * reloading gives identical predictions. A full-page screenshot per backend is written to
 * demo-output/browser/.
 *
 * Environment: CHROMIUM_PATH (default /usr/bin/chromium), BROWSER_BACKENDS (default cpu,wasm,webgl),
 * BROWSER_EPOCHS (default 4).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = path.resolve(__dirname, '..', '..');
const SITE = path.join(ROOT, 'demo-output', 'browser', 'site');
const OUT = path.join(ROOT, 'demo-output', 'browser');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BACKENDS = (process.env.BROWSER_BACKENDS ?? 'cpu,wasm,webgl').split(',').filter(Boolean);
const EPOCHS = Number(process.env.BROWSER_EPOCHS ?? 4);
/** Small enough that the three backends train in well under a minute on 2 cores. */
const PAGE_SETTINGS = { epochs: EPOCHS, train: 8, test: 4, rtol: 1e-4, lambda: 1 };

/** What the page publishes as window.spiralDemo (demos/browser/main.ts, DemoState). */
interface DemoState {
  state: string;
  backend: string | null;
  epochsDone: number;
  results: {
    name: string;
    trainLoss: number;
    testLoss: number;
    initialTrainLoss: number;
    predictionNFE: number;
    lossHistory: number[];
    nfeHistory: number[];
  }[];
  reload: { name: string; identical: boolean; maxAbsDiff: number; nfeTrained: number; nfeReloaded: number }[];
  errors: string[];
}

let server: ChildProcess | undefined;
let browser: Browser;
let baseUrl: string;

/** A TCP port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** `vite preview` of the built page (vite.config.mts) on `port`; resolves once it answers. */
async function startPreview(port: number): Promise<ChildProcess> {
  const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const child = spawn(process.execPath, [vite, 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`vite preview exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      if (res.ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill();
  throw new Error(`vite preview did not answer on port ${port} within 20 s:\n${output}`);
}

before(async () => {
  if (!fs.existsSync(path.join(SITE, 'index.html'))) {
    throw new Error(`${SITE}/index.html is missing: build the page first (npm run build && npm run build:browser, or npm run test:browser).`);
  }
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  }
  const port = await freePort();
  server = await startPreview(port);
  baseUrl = `http://127.0.0.1:${port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // WebGL without a GPU: ANGLE on SwiftShader, Chromium's software renderer.
    args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

/** Full-page PNG through the DevTools protocol (Page.captureScreenshot). */
async function screenshot(page: Page, file: string): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const { width, height } = await page.evaluate(() => ({
    width: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight,
  }));
  const { data } = await cdp.send('Page.captureScreenshot', {
    format: 'png',
    captureBeyondViewport: true,
    clip: { x: 0, y: 0, width, height, scale: 1 },
  });
  await cdp.detach();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.from(data, 'base64'));
}

async function waitForState(page: Page, states: string[], timeoutMs: number): Promise<DemoState> {
  await page.waitForFunction((s) => s.includes(window.spiralDemo?.state ?? ''), states, { timeout: timeoutMs, polling: 200 });
  return page.evaluate(() => JSON.parse(JSON.stringify(window.spiralDemo)) as DemoState);
}

describe('the built page', () => {
  it("bundles the package's browser ES-module build, resolved by its name", () => {
    const assets = fs.readdirSync(path.join(SITE, 'assets'));
    const maps = assets.filter((f) => f.endsWith('.js.map'));
    assert.ok(maps.length > 0, 'no source maps among the built files');
    const sources = maps.flatMap((f) => (JSON.parse(fs.readFileSync(path.join(SITE, 'assets', f), 'utf8')) as { sources: string[] }).sources);
    // The package's own files in the bundle: its dist/ build, or src/ if something bypassed the build.
    const ours = sources.filter((s) => !s.includes('node_modules') && /(^|\/)(dist|src)\//.test(s));
    assert.deepEqual(
      ours.map((s) => path.basename(s)),
      ['tfjs-neural-de.esm.mjs'],
      `the page bundles ${ours.join(', ')}`,
    );
    for (const wasm of ['tfjs-backend-wasm', 'tfjs-backend-wasm-simd']) {
      assert.ok(
        assets.some((f) => f.startsWith(`${wasm}-`) && f.endsWith('.wasm')),
        `${wasm}.wasm is not among the built files`,
      );
    }
  });
});

for (const backend of BACKENDS) {
  describe(`on ${backend}`, () => {
    let context: BrowserContext;
    let page: Page;
    const problems: string[] = [];
    let trained: DemoState;

    before(async () => {
      context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      page = await context.newPage();
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
      });
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
      });
      const query = new URLSearchParams({ backend, ...Object.fromEntries(Object.entries(PAGE_SETTINGS).map(([k, v]) => [k, String(v)])) });
      await page.goto(`${baseUrl}?${query}`);
      await page.waitForFunction(() => window.spiralDemo?.state === 'idle');
    });

    after(async () => {
      await context?.close();
    });

    it('trains both models: the loss goes down and the NFE is reported', async () => {
      assert.equal(await page.locator('select[name=backend]').inputValue(), backend);
      await page.click('#start');
      trained = await waitForState(page, ['done', 'error'], 90_000);
      assert.deepEqual(trained.errors, [], 'the page reported errors');
      assert.equal(trained.state, 'done');
      assert.equal(trained.backend, backend);
      assert.equal(trained.epochsDone, EPOCHS);
      assert.deepEqual(
        trained.results.map((r) => r.name),
        ['vanilla', 'error'],
      );
      for (const r of trained.results) {
        assert.equal(r.lossHistory.length, EPOCHS);
        assert.equal(r.nfeHistory.length, EPOCHS);
        assert.ok(r.trainLoss < r.initialTrainLoss * 0.95, `${r.name}: train MSE ${r.trainLoss} not below ${r.initialTrainLoss} before training`);
        assert.ok(Number.isFinite(r.testLoss) && r.testLoss > 0, `${r.name}: test loss ${r.testLoss}`);
        // tsit5 with the initial-step heuristic: 2 + 6 per attempted step, at least one step.
        for (const nfe of [...r.nfeHistory, r.predictionNFE]) {
          assert.ok(Number.isInteger(nfe) && nfe >= 8 && (nfe - 2) % 6 === 0, `${r.name}: NFE ${nfe} is not 2 + 6·steps`);
        }
      }
      // The results table: the Node demo's columns, one row per run, the NFE as measured.
      const header = await page.locator('#results thead th').allTextContents();
      assert.deepEqual(header, ['run', 'train loss', 'test loss', 'prediction NFE', 'train time (s)', 'predict time (ms)']);
      for (const r of trained.results) {
        const cells = await page.locator(`#results tbody tr[data-run="${r.name}"] td`).allTextContents();
        assert.equal(cells.length, 6);
        assert.equal(cells[1], r.trainLoss.toFixed(5));
        assert.equal(cells[3], r.predictionNFE.toFixed(0));
      }
      // The charts were drawn (vega-embed, SVG renderer).
      for (const id of ['trajectories', 'loss', 'nfe']) {
        assert.ok((await page.locator(`#${id} svg`).count()) >= 1, `#${id} has no chart`);
      }
      assert.ok(await page.locator('#errors').isHidden(), 'the error box is shown');
      assert.deepEqual(problems, []);
    });

    it('saves both models to IndexedDB; the reloaded ones predict exactly the same', async () => {
      assert.equal(trained?.state, 'done', 'training did not finish');
      await page.click('#save');
      const saved = await waitForState(page, ['saved', 'error'], 60_000);
      assert.deepEqual(saved.errors, []);
      assert.equal(saved.state, 'saved');
      assert.deepEqual(
        saved.reload.map((r) => r.name),
        ['vanilla', 'error'],
      );
      for (const r of saved.reload) {
        assert.equal(r.maxAbsDiff, 0, `${r.name}: reloaded predictions differ by up to ${r.maxAbsDiff}`);
        assert.ok(r.identical, `${r.name}: reloaded predictions are not identical`);
        assert.equal(r.nfeReloaded, r.nfeTrained);
      }
      const keys = await page.evaluate(async () => {
        const dbs = await indexedDB.databases();
        return dbs.map((d) => d.name);
      });
      assert.ok(keys.includes('tensorflowjs'), `IndexedDB databases: ${keys.join(', ')}`);
      assert.deepEqual(problems, []);
    });

    it('screenshot', async () => {
      const file = path.join(OUT, `spiral-${backend}.png`);
      await screenshot(page, file);
      assert.ok(fs.statSync(file).size > 10_000, `${file} is suspiciously small`);
    });
  });
}
