/**
 * The dashboard at `/` in a real browser (Debian's Chromium, headless, via playwright-core)
 * against a launcher with live nodes: a fake-driver provider that keeps two `small` nodes ready
 * (min-ready), plus 1000 nodes of a provider served by another (Python-style) launcher whose
 * pool is paused. Asserts what a person sees: counts, provider and launcher rows, labels, the
 * links to the JSON endpoints, a virtual node table; then changes a node's state in ZooKeeper
 * and sees the page show it without a reload. Leaves `test-output/dashboard-1000-nodes.png`.
 *
 * Without Chromium it skips, saying why, unless CI is set: then it fails.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createLauncher } from '../../src/launcher/create-launcher';
import { ENDPOINTS } from '../../src/web/dashboard-page';
import { WebApp } from '../../src/web/web-app';
import { Node } from '../../src/zk/models/node';
import { mapLimit } from '../../src/zk/zk-path';
import { browserMissing, launchBrowser } from '../support/browser';
import { EngineHarness, FAST_ENGINE, TEST_PLUGINS, waitUntil } from '../support/engine-harness';
import { describeUnless } from '../support/skip-reasons';
import { REPO_PLUGINS, testSettings } from '../support/test-settings';

const OUTPUT = path.resolve(__dirname, '../../test-output');
const BULK = 1000;
const CONFIG =
  'labels:\n  - name: small\n    min-ready: 2\n' +
  'providers:\n  - name: fake-a\n    driver: fake\n    boot-steps: 2\n    pools:\n      - name: main\n        max-servers: 5\n        labels:\n          - name: small\n';

const missing = browserMissing();
if (missing && process.env.CI) {
  describe('web dashboard in Chromium', () => {
    it('has a browser to run in', () => {
      throw new Error(`${missing}: the browser tests are required under CI (.ci/run installs chromium)`);
    });
  });
}

describeUnless(missing)('web dashboard in Chromium', () => {
  const h = new EngineHarness();
  let browser: Browser | undefined;
  let base: string;
  let bulk: Node[];

  beforeAll(async () => {
    await h.open();
    // The other launcher: a Python nodepool-launcher's records (no provider states of ours).
    await h.zk.registerComponent('launcher', { hostname: 'peer-host', kind: 'launcher', state: 'running', version: '9.1.0', model_api: 0 });
    await h.zk.registerComponent('pool', {
      hostname: 'peer-host', kind: 'pool', state: 'running', version: '9.1.0', model_api: 0, id: 'peer-host-static-bulk-main',
      name: 'main', provider_name: 'static-bulk', supported_labels: ['bulk-a', 'bulk-b'], priority: 100, paused: true,
    });
    const states = ['ready', 'in-use', 'building'] as const;
    bulk = await mapLimit(Array.from({ length: BULK }, (_, i) => i), 64, (i) => {
      const node = new Node();
      Object.assign(node, {
        type: [i % 2 ? 'bulk-b' : 'bulk-a'], provider: 'static-bulk', pool: 'main', external_id: `bulk-${i}`,
        public_ipv4: `10.9.${i >> 8}.${i & 255}`, hostname: `bulk${i}`, launcher: 'peer-host-static-bulk-main',
      });
      node.state = states[i % 3];
      return h.zk.createNode(node);
    });
    let web: WebApp | undefined;
    const launcher = await createLauncher(
      testSettings({ config: h.writeConfig('dash', CONFIG), hostname: 'dash-launcher', plugins: { dirs: [REPO_PLUGINS, TEST_PLUGINS] } }),
      { engine: FAST_ENGINE, coreServices: (c) => [(web = new WebApp(c, { listen: { host: '127.0.0.1', port: 0 } }))] },
    );
    h.launchers.push(launcher);
    await launcher.kernel.start();
    base = `http://127.0.0.1:${web!.address()!.port}`;
    await waitUntil('min-ready nodes of fake-a', async () => (await h.nodes((n) => n.provider === 'fake-a' && n.state === 'ready')).length === 2);
    browser = await launchBrowser();
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    await h.close();
  });

  /** Waits until an element matching `selector` shows `text`. */
  const sees = (page: Page, selector: string, text: string | RegExp): Promise<void> =>
    page.locator(selector, { hasText: text }).first().waitFor({ state: 'visible', timeout: 10000 });

  it('shows the fleet and a node changing state without a reload', async () => {
    const page = await browser!.newPage({ viewport: { width: 1600, height: 1200 } });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    page.on('request', (req) => {
      if (!req.url().startsWith(`${base}/`) && !req.url().startsWith('data:')) problems.push(`request off this server: ${req.url()}`);
    });
    await page.goto(`${base}/`);
    await sees(page, 'h1', 'Nodepool');
    await sees(page, '#live', 'live');
    await sees(page, '#node-count', `(${BULK + 2})`);

    // Provider pools: ours against its max-servers, the peer's paused and without a local cap.
    await sees(page, 'tr[data-provider="fake-a"][data-pool="main"]', '2 / 5');
    await sees(page, 'tr[data-provider="fake-a"] td', 'small');
    await sees(page, 'tr[data-provider="static-bulk"][data-pool="main"]', `${BULK} / ∞`);
    await sees(page, 'tr[data-provider="static-bulk"] td', 'paused');
    await sees(page, 'tr[data-provider="static-bulk"] td', 'peer-host');
    // Launchers with the pools they registered.
    await sees(page, 'tr[data-hostname="dash-launcher"]', 'nodepool-ts');
    await sees(page, 'tr[data-hostname="dash-launcher"] td', 'fake-a/main');
    await sees(page, 'tr[data-hostname="peer-host"]', '9.1.0');
    await sees(page, 'tr[data-hostname="peer-host"] td', 'static-bulk/main');
    // Labels with node counts: two small nodes ready.
    await sees(page, 'tr[data-label="small"] td:nth-child(2)', '2');
    // Every endpoint linked, relative to the page.
    for (const e of ENDPOINTS) {
      expect(await page.locator(`.endpoints a[href="${e.path.slice(1)}"]`).count()).toBe(1);
      if (e.json) expect(await page.locator(`.endpoints a[href="${e.path.slice(1)}.json"]`).count()).toBe(1);
    }
    expect(await page.locator('.endpoints a[href="node-list.json"]').evaluate((a) => (a as unknown as { href: string }).href)).toBe(`${base}/node-list.json`);
    // The table is virtual: a screenful of rows in the page, not a thousand.
    const rowsInPage = await page.locator('#node-body .nrow').count();
    expect(rowsInPage).toBeGreaterThan(10);
    expect(rowsInPage).toBeLessThan(100);

    fs.mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT, 'dashboard-1000-nodes.png'), fullPage: true });

    // Scrolling to the end brings the last node into view.
    const last = bulk[bulk.length - 1];
    await page.locator('#node-viewport').evaluate((v) => v.scrollTo(0, v.scrollHeight));
    await sees(page, `[data-node-id="${last.id}"] .c-id`, last.id as string);

    // A node changes state in ZooKeeper; the page shows it without being reloaded.
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    const target = bulk[0];
    await page.fill('#node-filter', target.id as string);
    await sees(page, '#node-count', `(1 of ${BULK + 2})`);
    await sees(page, `[data-node-id="${target.id}"] .c-state`, 'ready');
    target.state = 'hold';
    target.comment = 'held by the dashboard test';
    await h.zk.storeNode(target);
    await sees(page, `[data-node-id="${target.id}"] .c-state`, 'hold');
    await sees(page, `[data-node-id="${target.id}"] .c-comment`, 'held by the dashboard test');
    await sees(page, '#summary .card[data-key="hold"]', '1');
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });
});
