// The gallery in headless Chromium against the real `mediadex serve` over a real catalog indexed
// from real photos: grid, search with suggestions, boxes where the catalog says (also on an
// EXIF-rotated photo and after resizes), arrow keys and Escape, hostile names, errors page, phone
// width. Screenshots go to the build's test-artifacts/browser/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { HOSTILE_NAME, api, index, launchBrowser, makeSmallLibrary, screenshot, serve, tempDir } from './harness.mjs';

const TOLERANCE_PX = 2;
let root, server, browser, page, base;

before(async () => {
  root = tempDir('gallery');
  const lib = makeSmallLibrary(root);
  const catalog = path.join(root, 'catalog.db');
  index(catalog, lib);
  server = await serve({ catalog, library: lib });
  base = server.url;
  browser = await launchBrowser();
  page = browser.page;
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

async function gotoGallery(query = '') {
  await page.goto(`${base}/${query ? `?q=${encodeURIComponent(query)}` : ''}`);
  await page.waitForFunction(() => document.body.dataset.loaded !== undefined);
}

const cellIds = () => page.$$eval('#grid-spacer .cell', (cells) => cells.map((c) => Number(c.dataset.id)));

async function openById(id) {
  await page.click(`#grid-spacer .cell[data-id="${id}"]`);
  await page.waitForFunction((i) => document.getElementById('detail').dataset.id === String(i), id);
}

// The drawn boxes against the catalog: each box's page rect must equal box_norm times the rect of
// the picture inside the object-fit: contain <img>, within TOLERANCE_PX.
async function checkBoxes(item, label) {
  await page.waitForFunction(
    (n) => {
      const img = document.getElementById('detail-img');
      return img.complete && img.naturalWidth > 0 && document.querySelectorAll('#boxes .box').length === n;
    },
    item.detections.length,
    { timeout: 15000 },
  );
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const geo = await page.evaluate(() => {
    const img = document.getElementById('detail-img');
    const r = img.getBoundingClientRect();
    const nw = img.naturalWidth;
    const nh = img.naturalHeight;
    const s = Math.min(r.width / nw, r.height / nh);
    const pic = { x: r.x + (r.width - nw * s) / 2, y: r.y + (r.height - nh * s) / 2, w: nw * s, h: nh * s };
    const boxes = [...document.querySelectorAll('#boxes .box')].map((b) => ({
      index: Number(b.dataset.index),
      text: b.textContent,
      rect: b.getBoundingClientRect().toJSON(),
    }));
    return { pic, nw, nh, boxes, viewport: { w: innerWidth, h: innerHeight } };
  });
  // The preview is upright: its shape is the catalog's upright width x height.
  assert.ok(
    Math.abs(geo.nw / geo.nh - item.width / item.height) < 0.02,
    `${label}: preview ${geo.nw}x${geo.nh} is not shaped like the upright ${item.width}x${item.height}`,
  );
  assert.ok(geo.pic.w > 50 && geo.pic.h > 50, `${label}: the picture is drawn too small (${geo.pic.w}x${geo.pic.h})`);
  assert.ok(geo.pic.x >= -1 && geo.pic.x + geo.pic.w <= geo.viewport.w + 1, `${label}: the picture leaves the window`);
  assert.equal(geo.boxes.length, item.detections.length);
  for (const b of geo.boxes) {
    const d = item.detections[b.index];
    assert.ok(d, `${label}: box ${b.index} has no detection`);
    const want = {
      x: geo.pic.x + d.box_norm[0] * geo.pic.w,
      y: geo.pic.y + d.box_norm[1] * geo.pic.h,
      width: (d.box_norm[2] - d.box_norm[0]) * geo.pic.w,
      height: (d.box_norm[3] - d.box_norm[1]) * geo.pic.h,
    };
    for (const k of ['x', 'y', 'width', 'height']) {
      assert.ok(
        Math.abs(b.rect[k] - want[k]) <= TOLERANCE_PX,
        `${label}: box ${b.index} (${d.label}) ${k} is ${b.rect[k].toFixed(1)}, the catalog says ${want[k].toFixed(1)}`,
      );
    }
    // box_norm agrees with the pixel box over the upright size.
    assert.ok(Math.abs(d.box_norm[2] - d.box[2] / item.width) < 0.002, `${label}: box_norm and box disagree`);
    assert.ok(b.text.includes(d.label) && b.text.includes(d.score.toFixed(2)), `${label}: box text "${b.text}"`);
  }
  return geo;
}

test('the grid shows the catalog and keeps only the rows on screen in the page', async () => {
  await gotoGallery();
  const all = await api(base, '/api/media?limit=500');
  await page.waitForSelector('#grid-spacer .cell');
  const ids = await cellIds();
  assert.deepEqual([...ids].sort((a, b) => a - b), all.items.map((i) => i.id).sort((a, b) => a - b));
  const alts = await page.$$eval('#grid-spacer .cell img', (imgs) => imgs.map((i) => i.alt));
  assert.ok(alts.every((a) => a.length > 0), 'every thumbnail has alt text');
  assert.equal(await page.$$eval('#grid-spacer button.cell', (c) => c.length), ids.length, 'cells are buttons');
  await screenshot(page, 'grid');
  assert.deepEqual(browser.problems, []);
});

test('search "person" through the label suggestions, kept in the URL', async () => {
  await gotoGallery();
  await page.fill('#q', '');
  await page.type('#q', 'pers');
  await page.waitForSelector('#suggestions:not([hidden]) [role=option]');
  const first = await page.textContent('#suggestions [role=option]');
  assert.match(first, /^person\s*\d+$/);
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.getAttribute('#q', 'aria-activedescendant'), 'suggestion-0');
  await page.keyboard.press('Enter'); // takes the suggestion
  assert.equal((await page.inputValue('#q')).trim(), 'person');
  await page.keyboard.press('Enter'); // searches
  await page.waitForURL(/\?q=person/);
  const want = await api(base, '/api/media?q=person&limit=500');
  assert.ok(want.items.length >= 3, 'the catalog has at least three photos with a person');
  await page.waitForFunction((n) => document.querySelectorAll('#grid-spacer .cell').length === n, want.items.length);
  assert.deepEqual(await cellIds(), want.items.map((i) => i.id));
  await screenshot(page, 'search-person');
  await page.reload();
  await page.waitForFunction((n) => document.querySelectorAll('#grid-spacer .cell').length === n, want.items.length);
  assert.equal(await page.inputValue('#q'), 'person', 'the query survives a reload');
});

test('a bad query shows the server\'s error', async () => {
  await gotoGallery();
  await page.fill('#q', 'colour:red');
  await page.press('#q', 'Enter');
  await page.waitForSelector('#message:not([hidden])');
  assert.match(await page.textContent('#message'), /colour/);
});

test('each box sits where the catalog says, also on the EXIF-rotated photo and after resizing', async () => {
  const list = await api(base, '/api/media?q=person&limit=500');
  const rotated = list.items.find((i) => i.name === 'people-rotated.jpg');
  assert.ok(rotated, 'the EXIF-6 copy of human-samples.jpg is found with a person');
  const plain = list.items.find((i) => i.name === 'human-samples.jpg');
  assert.equal(rotated.width, plain.height, 'the rotated copy is upright: width and height swap');
  assert.equal(rotated.height, plain.width);
  const sizes = [
    [1280, 800],
    [900, 1000],
    [1600, 600],
  ];
  for (const it of list.items) {
    const item = await api(base, `/api/media/${it.id}`);
    assert.ok(item.detections.length > 0);
    await page.setViewportSize({ width: 1280, height: 800 });
    await gotoGallery('person');
    await openById(it.id);
    for (const [w, h] of sizes) {
      await page.setViewportSize({ width: w, height: h });
      await checkBoxes(item, `${it.name} at ${w}x${h}`);
    }
    await screenshot(page, `boxes-${it.id}`);
    await page.keyboard.press('Escape');
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.deepEqual(browser.problems, []);
});

test('arrow keys move through the result list, Escape closes, Back and reload keep the state', async () => {
  const list = (await api(base, '/api/media?q=person&limit=500')).items;
  await gotoGallery('person');
  await openById(list[0].id);
  const shown = () => page.$eval('#detail', (d) => Number(d.dataset.id));
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((id) => document.getElementById('detail').dataset.id === String(id), list[1].id);
  assert.equal(await page.textContent('#detail-name'), list[1].name);
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((id) => document.getElementById('detail').dataset.id === String(id), list[2].id);
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction((id) => document.getElementById('detail').dataset.id === String(id), list[1].id);
  assert.match(page.url(), new RegExp(`id=${list[1].id}`));
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft'); // at the first photo: stays
  await page.waitForTimeout(200);
  assert.equal(await shown(), list[0].id);
  await page.reload();
  await page.waitForFunction((id) => document.getElementById('detail').dataset.id === String(id), list[0].id);
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press('Tab');
    assert.ok(await page.evaluate(() => document.getElementById('detail').contains(document.activeElement)), 'Tab stays in the detail view');
  }
  await page.keyboard.press('Escape');
  await page.waitForSelector('#detail', { state: 'hidden' });
  await page.waitForFunction((id) => document.activeElement && document.activeElement.dataset.id === String(id), list[0].id);
  assert.doesNotMatch(page.url(), /id=/);
  assert.match(page.url(), /q=person/);
});

test('a video lists its moments, and a moment seeks the video there', async () => {
  const video = (await api(base, '/api/media?limit=500')).items.find((i) => i.kind === 'video');
  assert.ok(video, 'the catalog has the video');
  const item = await api(base, `/api/media/${video.id}`);
  const times = [...new Set(item.detections.map((d) => d.time))];
  assert.ok(times.length > 0, 'the video has detections at some times');
  await gotoGallery();
  await openById(video.id);
  await page.waitForSelector('#detail-video:not([hidden])');
  const buttons = await page.$$eval('#moments-list button', (b) => b.map((x) => Number(x.dataset.time)));
  assert.deepEqual(buttons, times.sort((a, b) => a - b));
  const last = buttons[buttons.length - 1];
  await page.click(`#moments-list button[data-time="${last}"]`);
  await page.waitForFunction((t) => Math.abs(document.getElementById('detail-video').currentTime - t) < 0.1, last);
  // That moment's boxes are drawn over the video's picture, where the catalog says.
  const here = item.detections.filter((d) => d.time === last);
  await page.waitForFunction((n) => {
    const v = document.getElementById('detail-video');
    return v.videoWidth > 0 && document.querySelectorAll('#boxes .box').length === n;
  }, here.length);
  const geo = await page.evaluate(() => {
    const v = document.getElementById('detail-video');
    const r = v.getBoundingClientRect();
    const s = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
    const pic = { x: r.x + (r.width - v.videoWidth * s) / 2, y: r.y + (r.height - v.videoHeight * s) / 2, w: v.videoWidth * s, h: v.videoHeight * s };
    return { pic, boxes: [...document.querySelectorAll('#boxes .box')].map((b) => ({ index: Number(b.dataset.index), rect: b.getBoundingClientRect().toJSON() })) };
  });
  for (const b of geo.boxes) {
    const d = item.detections[b.index];
    assert.equal(d.time, last);
    assert.ok(Math.abs(b.rect.x - (geo.pic.x + d.box_norm[0] * geo.pic.w)) <= TOLERANCE_PX, 'video box x');
    assert.ok(Math.abs(b.rect.y - (geo.pic.y + d.box_norm[1] * geo.pic.h)) <= TOLERANCE_PX, 'video box y');
    assert.ok(Math.abs(b.rect.width - (d.box_norm[2] - d.box_norm[0]) * geo.pic.w) <= TOLERANCE_PX, 'video box width');
  }
  await screenshot(page, 'video');
  await page.keyboard.press('Escape');
});

test('a hostile file name is shown as text, never as markup', async () => {
  await gotoGallery();
  await page.waitForSelector('#grid-spacer .cell');
  const names = await page.$$eval('.cell-name', (n) => n.map((x) => x.textContent));
  assert.ok(names.includes(HOSTILE_NAME), `the grid shows ${HOSTILE_NAME} literally`);
  assert.equal(await page.$$eval('img[src="x"], img[src$="/x"]', (i) => i.length), 0, 'no <img src=x> was made');
  const item = (await api(base, '/api/media?limit=500')).items.find((i) => i.name === HOSTILE_NAME);
  await openById(item.id);
  assert.equal(await page.textContent('#detail-name'), HOSTILE_NAME);
  assert.equal(await page.$$eval('img[src="x"], img[src$="/x"]', (i) => i.length), 0);
  await page.keyboard.press('Escape');
  assert.deepEqual(browser.problems, [], 'no alert() ran');
});

test('the errors page lists the failed files with their reasons', async () => {
  await gotoGallery();
  await page.click('#nav-errors');
  await page.waitForURL(/view=errors/);
  await page.waitForSelector('.error-item');
  const rows = await page.$$eval('.error-item', (r) =>
    r.map((x) => ({ name: x.querySelector('.error-name').textContent, reason: x.querySelector('.error-reason').textContent })),
  );
  const broken = rows.find((r) => r.name === 'broken.jpg');
  assert.ok(broken, 'broken.jpg is listed');
  assert.ok(broken.reason.length > 0, 'with its reason');
  const want = await api(base, '/api/errors');
  assert.equal(rows.length, want.items.length);
  assert.equal(await page.textContent('#errors-count'), String(want.items.length), 'the count beside Errors');
  await screenshot(page, 'errors');
  await page.click('#nav-gallery');
  await page.waitForSelector('#gallery-view:not([hidden])');
});

test('at phone width (375 px) nothing scrolls sideways and the detail view is usable', async () => {
  await page.setViewportSize({ width: 375, height: 740 });
  await gotoGallery('person');
  await page.waitForSelector('#grid-spacer .cell');
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok((await overflow()) <= 0, 'no horizontal scroll in the grid');
  const cols = await page.$$eval('#grid-spacer .cell', (c) => new Set(c.map((x) => Math.round(x.getBoundingClientRect().x))).size);
  assert.ok(cols >= 2, `at least two columns at 375 px (got ${cols})`);
  const right = await page.$$eval('#grid-spacer .cell', (c) => Math.max(...c.map((x) => x.getBoundingClientRect().right)));
  assert.ok(right <= 375, 'the cells fit the width');
  await screenshot(page, 'phone-grid');
  const list = (await api(base, '/api/media?q=person&limit=500')).items;
  await openById(list[0].id);
  await checkBoxes(await api(base, `/api/media/${list[0].id}`), 'phone');
  assert.ok((await overflow()) <= 0, 'no horizontal scroll in the detail view');
  for (const id of ['detail-prev', 'detail-next', 'detail-close']) {
    const r = await page.$eval(`#${id}`, (b) => b.getBoundingClientRect().toJSON());
    assert.ok(r.right <= 375 && r.width >= 24, `${id} is on screen and big enough to tap`);
  }
  await screenshot(page, 'phone-detail');
  await page.click('#detail-close');
  await page.waitForSelector('#detail', { state: 'hidden' });
  await page.setViewportSize({ width: 1280, height: 800 });
});
