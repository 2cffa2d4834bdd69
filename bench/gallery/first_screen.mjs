#!/usr/bin/env node
// How long the gallery's first screen takes over a big catalog, in headless Chromium (fresh
// profile each run): navigation start -> the first cells in the page, and -> every thumbnail on
// screen decoded. Cold = the server's thumbnail cache empty (thumbnails made on demand);
// warm = made already (the browser still has no cache).
//
//   node bench/gallery/first_screen.mjs [--catalog DB] [--n 100000] [--runs 5]
//
// Without --catalog it makes one with bench/serve/make_catalog.py in a temp dir. Needs
// MEDIADEX_BINARY (default build/mediadex), MEDIADEX_MODEL_DIR for make_catalog's one index run,
// and tests/browser/node_modules (npm ci --prefix tests/browser).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BINARY, SOURCE_DIR, launchBrowser, serve, tempDir } from '../../tests/browser/harness.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const n = Number(arg('n', 100000));
const runs = Number(arg('runs', 5));
let catalog = arg('catalog', null);
let tmp = null;
if (!catalog) {
  tmp = tempDir('bench');
  catalog = path.join(tmp, 'catalog.db');
  const r = spawnSync('python3', [path.join(SOURCE_DIR, 'bench/serve/make_catalog.py'), catalog, String(n), '--mediadex', BINARY], {
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error('make_catalog.py failed');
}

async function once(url) {
  const b = await launchBrowser({ width: 1280, height: 800 });
  try {
    const t = await b.page.evaluate(() => 0).then(async () => {
      // Timed inside the page, each frame, so the driver's round trips are not counted.
      await b.page.addInitScript(() => {
        window.__firstScreen = {};
        const tick = () => {
          const t = window.__firstScreen;
          const cells = document.querySelectorAll('#grid-spacer .cell');
          if (cells.length && !t.cells) t.cells = performance.now();
          if (cells.length && !t.images) {
            const box = document.getElementById('grid-scroller').getBoundingClientRect();
            const imgs = [...cells].map((c) => c.firstChild).filter((i) => {
              const r = i.getBoundingClientRect();
              return r.bottom > box.top && r.top < box.bottom;
            });
            if (imgs.every((i) => i.complete && i.naturalWidth > 0)) t.images = performance.now();
          }
          if (!t.images) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
      await b.page.goto(url, { waitUntil: 'commit' });
      await b.page.waitForFunction(() => window.__firstScreen && window.__firstScreen.images, null, { timeout: 120000 });
      const { cells, images } = await b.page.evaluate(() => window.__firstScreen);
      // Where the time went: the document, the last module, the first page of /api/media.
      const split = await b.page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource');
        const end = (re) => Math.max(0, ...res.filter((r) => re.test(r.name)).map((r) => r.responseEnd));
        const media = res.find((r) => /\/api\/media\?/.test(r.name));
        return { doc: nav.responseEnd, modules: end(/\.js$/), mediaStart: media ? media.startTime : 0, mediaEnd: media ? media.responseEnd : 0 };
      });
      const inDom = await b.page.$$eval('#grid-spacer .cell', (c) => c.length);
      const loaded = await b.page.evaluate(() => Number(document.body.dataset.loaded));
      return { cells, images, inDom, loaded, split };
    });
    if (b.problems.length) throw new Error(b.problems.join('; '));
    return t;
  } finally {
    await b.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
fs.rmSync(`${catalog}.thumbs`, { recursive: true, force: true });
const server = await serve({ catalog });
try {
  const cold = await once(`${server.url}/`);
  const warm = [];
  for (let i = 0; i < runs; i++) warm.push(await once(`${server.url}/`));
  const fmt = (x) => `${Math.round(x)} ms`;
  console.log(`catalog: ${catalog} (${n} photos), ${runs} warm runs, 1280x800`);
  console.log(`cold thumbnail cache: cells ${fmt(cold.cells)}, thumbnails on screen ${fmt(cold.images)}`);
  console.log(`warm: cells median ${fmt(median(warm.map((w) => w.cells)))}, thumbnails on screen median ${fmt(median(warm.map((w) => w.images)))} (max ${fmt(Math.max(...warm.map((w) => w.images)))})`);
  const m = (k) => fmt(median(warm.map((w) => w.split[k])));
  console.log(`warm medians: document ${m('doc')}, modules ${m('modules')}, /api/media asked ${m('mediaStart')} answered ${m('mediaEnd')}`);
  console.log(`cells in the page: ${warm[0].inDom} of ${warm[0].loaded} loaded items`);
} finally {
  await server.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}
