// Index runs from the API, watched over the event stream: start, progress, finish, cancel, 409.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { json, makeLibrary, startServer } from './harness.mjs';
import { openEvents } from './sse.mjs';

let lib, server;

before(async () => {
  lib = makeLibrary();
  // More files (copies of real photos) in small batches, so that a run lasts long enough to cancel.
  const more = path.join(lib.lib, 'more');
  fs.mkdirSync(more);
  const src = path.join(lib.lib, '2024', 'trip', 'sklearn-china.jpg');
  for (let i = 0; i < 40; i++) fs.copyFileSync(src, path.join(more, `copy_${i}.jpg`));
  server = await startServer(['--catalog', lib.catalog, '--library', lib.lib, '--batch-size', '2', '--concurrency', '1']);
});
after(async () => {
  assert.equal(await server.stop(), 0);
  fs.rmSync(lib.dir, { recursive: true, force: true });
});

test('a run: run_started, scanned, progress, run_finished over SSE; 409 while it runs', async () => {
  const events = await openEvents(server.base);
  assert.equal(events.response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const hello = await events.next('hello');
  assert.equal(hello.state, 'idle');
  const started = await json(server.base, '/api/runs', { method: 'POST' });
  assert.equal(started.status, 202);
  assert.ok(['scanning', 'running'].includes(started.body.state));
  const again = await json(server.base, '/api/runs', { method: 'POST' });
  assert.equal(again.status, 409);
  assert.match(again.body.error, /already/);
  await events.next('run_started');
  const scanned = await events.next('scanned');
  assert.equal(scanned.to_analyse, 40);
  const progress = await events.next('progress', (p) => p.done > 0);
  assert.equal(progress.total, 40);
  for (const k of ['failed', 'queued', 'images_per_s', 'eta_s']) assert.equal(typeof progress[k], 'number', k);
  const current = await json(server.base, '/api/runs/current');
  assert.ok(['running', 'finished'].includes(current.body.state));
  const finished = await events.next('run_finished', () => true, 240000);
  assert.equal(finished.cancelled, false);
  assert.equal(finished.done, 40);
  assert.equal((await json(server.base, '/api/runs/current')).body.state, 'finished');
  const status = await json(server.base, '/api/status');
  assert.equal(status.body.pending, 0);
  const metrics = await (await fetch(server.base + '/metrics')).text();
  assert.match(metrics, /^mediadex_images_indexed_total\{device="cpu"\} 40$/m);
  events.close();
});

test('cancel: the run stops after its batches in flight, keeps what it committed', async () => {
  // New content for every copy: the next run analyses them again.
  const more = path.join(lib.lib, 'more');
  const src = fs.readFileSync(path.join(lib.lib, 'astronaut.png'));
  for (const f of fs.readdirSync(more)) fs.rmSync(path.join(more, f));
  for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(more, `png_${i}.png`), src);
  const events = await openEvents(server.base);
  await events.next('hello');
  assert.equal((await json(server.base, '/api/runs', { method: 'POST' })).status, 202);
  await events.next('progress', (p) => p.done > 0);
  const cancel = await json(server.base, '/api/runs/current/cancel', { method: 'POST' });
  assert.equal(cancel.status, 202);
  assert.equal(cancel.body.state, 'cancelling');
  const finished = await events.next('run_finished', () => true, 120000);
  assert.equal(finished.cancelled, true);
  assert.ok(finished.done < 40, `stopped early (${finished.done})`);
  const status = await json(server.base, '/api/status');
  assert.ok(status.body.pending > 0 && status.body.pending < 40);
  assert.equal((await json(server.base, '/api/runs/current/cancel', { method: 'POST' })).status, 409);
  events.close();
});

test('no library configured: 400 saying so', async () => {
  const other = await startServer(['--catalog', lib.catalog]);
  try {
    const r = await json(other.base, '/api/runs', { method: 'POST' });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /--library/);
  } finally {
    assert.equal(await other.stop(), 0);
  }
});

test('SIGTERM during a run: exit 0 with the finished batches committed', async () => {
  const more = path.join(lib.lib, 'more');
  const src = fs.readFileSync(path.join(lib.lib, '2024', 'trip', 'human-samples.jpg'));
  for (const f of fs.readdirSync(more)) fs.rmSync(path.join(more, f));
  for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(more, `h_${i}.jpg`), src);
  const s = await startServer(['--catalog', lib.catalog, '--library', lib.lib, '--batch-size', '2', '--concurrency', '1']);
  const events = await openEvents(s.base);
  await events.next('hello');
  assert.equal((await json(s.base, '/api/runs', { method: 'POST' })).status, 202);
  await events.next('progress', (p) => p.done > 0);
  events.close();
  assert.equal(await s.stop(), 0);
  // The main server reads what the stopped one committed.
  const status = await json(server.base, '/api/status');
  assert.ok(status.body.pending < 40, `committed batches kept (pending ${status.body.pending})`);
});
