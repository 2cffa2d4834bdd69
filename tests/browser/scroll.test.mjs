// The grid over a catalog of thousands of photos (bench/serve/make_catalog.py: real rows, files
// hard-linked to real photos): infinite scroll pages in by cursor to the very last photo, and
// the page never holds more than the rows on screen plus a margin.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BINARY, SOURCE_DIR, api, launchBrowser, serve, tempDir } from './harness.mjs';

const N = 3000;
let root, server, browser;

before(async () => {
  root = tempDir('scroll');
  const catalog = path.join(root, 'catalog.db');
  const r = spawnSync('python3', [path.join(SOURCE_DIR, 'bench/serve/make_catalog.py'), catalog, String(N), '--mediadex', BINARY], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`make_catalog.py failed (${r.status}): ${r.stderr || r.error}`);
  server = await serve({ catalog });
  browser = await launchBrowser({ width: 1280, height: 800 });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test(`infinite scroll reaches the last of ${N} photos with few cells in the page`, async () => {
  const { page } = browser;
  await page.goto(`${server.url}/`);
  await page.waitForSelector('#grid-spacer .cell');
  const first = await page.$$eval('#grid-spacer .cell', (c) => c.length);
  let most = first;
  for (let step = 0; step < 400; step++) {
    const s = await page.evaluate(() => {
      const sc = document.getElementById('grid-scroller');
      sc.scrollTop = sc.scrollHeight;
      return { loaded: Number(document.body.dataset.loaded), cells: document.querySelectorAll('#grid-spacer .cell').length };
    });
    most = Math.max(most, s.cells);
    if (s.loaded >= N) break;
    await page.waitForFunction((n) => Number(document.body.dataset.loaded) > n, s.loaded, { timeout: 15000 });
  }
  assert.equal(await page.evaluate(() => Number(document.body.dataset.loaded)), N, 'every page came in');
  await page.waitForTimeout(100);
  // 7 columns at 1280 px, about 4 rows on screen + 3 above + 3 below.
  assert.ok(most <= 12 * 7, `at most ${most} cells were in the page at once (of ${N} photos)`);
  const all = [];
  for (let cursor = null; ; ) {
    const p = await api(server.url, `/api/media?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    all.push(...p.items);
    if (!p.next_cursor) break;
    cursor = p.next_cursor;
  }
  const lastId = await page.$$eval('#grid-spacer .cell', (c) => Math.max(...c.map((x) => Number(x.dataset.index))));
  assert.equal(lastId, N - 1, 'the last cell is drawn at the bottom');
  const lastCell = await page.$eval(`#grid-spacer .cell[data-index="${N - 1}"]`, (c) => Number(c.dataset.id));
  assert.equal(lastCell, all[N - 1].id, 'in the order of the API');
  assert.deepEqual(browser.problems, []);
});

test('a label of two words ("potted plant") is suggested and searched', async () => {
  const { page } = browser;
  await page.goto(`${server.url}/`);
  await page.waitForSelector('#grid-spacer .cell');
  await page.type('#q', 'pott');
  await page.waitForSelector('#suggestions:not([hidden]) [role=option]');
  assert.match(await page.textContent('#suggestions [role=option]'), /^potted plant\s*\d+$/);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  assert.equal((await page.inputValue('#q')).trim(), 'potted_plant');
  await page.keyboard.press('Enter');
  await page.waitForURL(/q=potted_plant/);
  const want = (await api(server.url, `/api/media?labels=${encodeURIComponent('potted plant')}&limit=100`)).items;
  assert.ok(want.length > 0);
  await page.waitForFunction((id) => {
    const c = document.querySelector('#grid-spacer .cell[data-index="0"]');
    return c && c.dataset.id === String(id);
  }, want[0].id);
  const shown = await page.$$eval('#grid-spacer .cell', (c) =>
    c.map((x) => [Number(x.dataset.index), Number(x.dataset.id)]).sort((a, b) => a[0] - b[0]).map((x) => x[1]),
  );
  assert.deepEqual(shown, want.slice(0, shown.length).map((i) => i.id));
});
