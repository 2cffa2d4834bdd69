// "Index now" in the browser against the real server: a run over a fresh library reaches 100%
// on the live bar (fed by /api/events), a run over a bigger library is cancelled mid-way, and a
// server without a library says so.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { api, launchBrowser, makeBigLibrary, makeSmallLibrary, screenshot, serve, tempDir } from './harness.mjs';

const cleanups = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
});

async function setUp(name, makeLibrary, extra = []) {
  const root = tempDir(name);
  cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
  const library = makeLibrary ? makeLibrary(root) : null;
  const server = await serve({ catalog: path.join(root, 'catalog.db'), library, extra });
  cleanups.push(() => server.stop());
  const browser = await launchBrowser();
  cleanups.push(() => browser.close());
  await browser.page.goto(`${server.url}/`);
  await browser.page.waitForFunction(() => document.body.dataset.loaded !== undefined);
  return { server, browser, page: browser.page };
}

const bar = (page) =>
  page.$eval('#run-bar', (b) => ({ hidden: b.hidden, value: b.value, max: b.max, done: Number(b.dataset.done), total: Number(b.dataset.total) }));

test('Index now: the live bar reaches 100% and the grid shows the new photos', async () => {
  const { server, browser, page } = await setUp('index', makeSmallLibrary);
  assert.equal(await page.textContent('#result-info'), 'No photos match.', 'the catalog starts empty');
  await page.click('#index-now');
  await page.waitForFunction(() => document.body.dataset.run === 'finished', null, { timeout: 120000 });
  const b = await bar(page);
  assert.equal(b.hidden, false);
  assert.ok(b.total >= 10, `the run saw the library (total ${b.total})`);
  assert.equal(b.done, b.total, 'done = total');
  assert.equal(b.value, b.max, 'the bar is full');
  const text = await page.textContent('#run-text');
  assert.match(text, new RegExp(`^${b.total} / ${b.total}`));
  assert.match(text, /[1-9]\d* failed/, 'the broken file is counted as a failure');
  await screenshot(page, 'index-finished');
  const run = await api(server.url, '/api/runs/current');
  assert.equal(run.state, 'finished');
  assert.equal(run.done, b.done);
  await page.waitForFunction(() => Number(document.body.dataset.loaded) > 0);
  assert.deepEqual(browser.problems, []);
});

test('Cancel stops a run mid-way', async () => {
  // One photo at a time on the CPU, so that even a machine with a fast GPU is mid-run at the cancel.
  const slow = ['--device', 'cpu', '--batch-size', '1', '--concurrency', '1'];
  const { server, browser, page } = await setUp('cancel', (root) => makeBigLibrary(root, 40), slow);
  await page.click('#index-now');
  await page.waitForSelector('#cancel-run:not([hidden])');
  // Wait for the first progress, so the cancel lands while files are being analysed.
  await page.waitForFunction(() => Number(document.getElementById('run-bar').dataset.done) > 0, null, { timeout: 60000 });
  assert.match(await page.textContent('#run-text'), /images\/s/, 'the rate is shown while running');
  await screenshot(page, 'index-running');
  await page.click('#cancel-run');
  await page.waitForFunction(() => document.body.dataset.run === 'cancelled', null, { timeout: 60000 });
  const b = await bar(page);
  assert.ok(b.done < b.total, `cancelled before the end (${b.done} of ${b.total})`);
  assert.match(await page.textContent('#run-text'), /cancelled/);
  await page.waitForSelector('#index-now:not([hidden])');
  await screenshot(page, 'index-cancelled');
  const run = await api(server.url, '/api/runs/current');
  assert.notEqual(run.state, 'running');
  assert.ok(run.done < run.total);
  assert.deepEqual(browser.problems, []);
});

test('without a library the page says so and Index now is off', async () => {
  const { page } = await setUp('nolib', null);
  await page.waitForFunction(() => document.getElementById('index-now').disabled);
  assert.match(await page.textContent('#run-text'), /No library configured/);
  await screenshot(page, 'no-library');
});
