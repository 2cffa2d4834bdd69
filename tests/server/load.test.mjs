// A bounded load test on loopback: 2,000 requests, 32 at a time, over search, detail and
// thumbnails while an index run writes to the same catalog. Zero errors allowed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { json, makeLibrary, startServer } from './harness.mjs';
import { openEvents } from './sse.mjs';

let lib, server;

before(async () => {
  lib = makeLibrary();
  const more = path.join(lib.lib, 'more');
  fs.mkdirSync(more);
  const src = fs.readFileSync(path.join(lib.lib, '2024', 'trip', 'sklearn-china.jpg'));
  for (let i = 0; i < 60; i++) fs.writeFileSync(path.join(more, `c_${i}.jpg`), src);
  server = await startServer(['--catalog', lib.catalog, '--library', lib.lib, '--batch-size', '2', '--concurrency', '1']);
});
after(async () => {
  assert.equal(await server.stop(), 0);
  fs.rmSync(lib.dir, { recursive: true, force: true });
});

test('2,000 requests, 32 concurrent, during an index run: zero errors', async () => {
  const items = (await json(server.base, '/api/media?limit=100')).body.items.filter((i) => i.status !== 'pending');
  assert.ok(items.length >= 8);
  const events = await openEvents(server.base);
  await events.next('hello');
  assert.equal((await json(server.base, '/api/runs', { method: 'POST' })).status, 202);
  await events.next('progress', (p) => p.done > 0);

  const urls = [];
  for (let i = 0; i < 2000; i++) {
    const item = items[i % items.length];
    const kind = i % 4;
    if (kind === 0) urls.push('/api/media?q=' + encodeURIComponent(['person', 'dog|cat', 'score>0.3', 'folder:2024/trip'][i % 4]));
    else if (kind === 1) urls.push(`/api/media/${item.id}`);
    else if (kind === 2) urls.push(item.thumb);
    else urls.push(`/api/media?limit=5&sort=${i % 8 < 4 ? 'date' : 'score'}`);
  }
  let next = 0, errors = [], done = 0;
  const t0 = Date.now();
  async function worker() {
    while (next < urls.length) {
      const url = urls[next++];
      try {
        const r = await fetch(server.base + url);
        await r.arrayBuffer();
        if (r.status !== 200) errors.push(`${url}: ${r.status}`);
      } catch (e) {
        errors.push(`${url}: ${e.message}`);
      }
      done++;
    }
  }
  await Promise.all(Array.from({ length: 32 }, worker));
  const seconds = (Date.now() - t0) / 1000;
  const state = (await json(server.base, '/api/runs/current')).body;
  console.log(`# ${done} requests in ${seconds.toFixed(1)} s (${(done / seconds).toFixed(0)}/s); run ${state.state} ${state.done}/${state.total}`);
  assert.deepEqual(errors, []);
  assert.equal(done, 2000);
  await events.next('run_finished', () => true, 240000);
  events.close();
});
