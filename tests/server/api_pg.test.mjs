// The gallery API on a PostgreSQL catalog: api.test.mjs's library indexed into a fresh database
// on the tests/pg fixture's server and into an SQLite file, `mediadex serve` on each, and every
// gallery read (/api/media with its filters and cursors, /api/media/{id}, /api/labels,
// /api/errors) answering the same on both. Environment: harness.mjs's, plus
// MEDIADEX_TEST_PG_URL_FILE (CTest sets it; run through `ctest -L pg`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { indexCatalog, json, makeLibrary, startServer } from './harness.mjs';

let lib, pg, sqlite, server, db;

function psql(url, sql) {
  const r = spawnSync('psql', ['-q', url, '-c', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql ${sql}: ${r.error || r.stderr}`);
}

// A fresh database on the fixture's server: { server, name, url }.
function freshDatabase() {
  const file = process.env.MEDIADEX_TEST_PG_URL_FILE;
  if (!file || !fs.existsSync(file)) {
    throw new Error('no PostgreSQL test server: run through `ctest -L pg` (fixture pg_server)');
  }
  const serverUrl = fs.readFileSync(file, 'utf8').split('\n')[0].trim();
  const name = `server_api_${process.pid}`;
  psql(serverUrl, `DROP DATABASE IF EXISTS ${name}`);
  psql(serverUrl, `CREATE DATABASE ${name}`);
  return { server: serverUrl, name, url: serverUrl.replace(/\/[^/]*$/, `/${name}`) };
}

before(async () => {
  db = freshDatabase();
  lib = makeLibrary({ catalog: db.url });
  const file = path.join(lib.dir, 'catalog.db');
  indexCatalog(lib.lib, file);
  // A PostgreSQL catalog keeps its thumbnails beside the default catalog: in the temp dir here.
  pg = await startServer(['--catalog', db.url, '--library', lib.lib], { XDG_DATA_HOME: lib.dir });
  sqlite = await startServer(['--catalog', file, '--library', lib.lib]);
  server = pg.base;
});
after(async () => {
  for (const s of [pg, sqlite]) if (s) assert.equal(await s.stop(), 0, 'SIGTERM exits 0');
  if (db) psql(db.server, `DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`);
  if (lib) fs.rmSync(lib.dir, { recursive: true, force: true });
});

async function ok(base, p) {
  const r = await json(base, p);
  assert.equal(r.status, 200, `${p}: ${JSON.stringify(r.body)}`);
  return r.body;
}

// Every item of a listing, two a page; what both backends must agree on (ids may differ).
async function all(base, query) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < 50; i++) {
    const b = await ok(base, `/api/media?limit=2&${query}${cursor ? `&cursor=${cursor}` : ''}`);
    items.push(...b.items);
    cursor = b.next_cursor;
    if (!cursor) break;
  }
  return items.map((i) => ({ name: i.name, status: i.status, best_score: i.best_score, labels: i.labels,
                             width: i.width, height: i.height, capture_time: i.capture_time }));
}

describe('api on PostgreSQL', () => {
  test('media lists: every filter and sort answers as on SQLite, page by page', async () => {
    const first = await ok(server, '/api/media?limit=100');
    assert.equal(first.items.length, 8);
    assert.equal(first.next_cursor, null);
    const queries = ['', 'sort=score', 'q=person', 'q=' + encodeURIComponent('person|cat'),
                     'q=' + encodeURIComponent('person cat'), 'q=' + encodeURIComponent('score>0.5'),
                     'folder=2024/trip', 'q=' + encodeURIComponent('folder:2024/trip') + '&sort=score',
                     'q=status:failed', 'q=status:done&sort=score', 'q=' + encodeURIComponent('after:2000-01-01'),
                     'labels=person&min_score=0.99'];
    for (const q of queries) {
      const got = await all(server, q);
      assert.deepEqual(got, await all(sqlite.base, q), `?${q}`);
    }
    assert.deepEqual((await all(server, 'q=status:failed')).map((i) => i.name), ['broken.jpg']);
    assert.ok((await all(server, 'q=person')).length >= 1);
    const bad = await json(server, '/api/media?cursor=zz');
    assert.equal(bad.status, 400);
    const dateCursor = (await ok(server, '/api/media?limit=1')).next_cursor;
    assert.equal((await json(server, `/api/media?sort=score&cursor=${dateCursor}`)).status, 400,
                 'a date cursor is no score cursor');
  });

  test('detail: one file with its detections; unknown ids are 404', async () => {
    const items = (await ok(server, '/api/media?limit=100&q=person')).items;
    const d = await ok(server, `/api/media/${items[0].id}`);
    assert.equal(d.name, items[0].name);
    assert.equal(d.status, 'done');
    assert.ok(d.detections.length >= 1);
    assert.ok(d.detections.some((x) => x.label === 'person'));
    const other = (await ok(sqlite.base, '/api/media?limit=100&q=person')).items.find((i) => i.name === d.name);
    const s = await ok(sqlite.base, `/api/media/${other.id}`);
    assert.deepEqual(d.detections, s.detections);
    assert.deepEqual(d.labels, s.labels);
    assert.equal((await json(server, '/api/media/99999999')).status, 404);
  });

  test('labels and errors', async () => {
    const labels = await ok(server, '/api/labels?prefix=pe&limit=5');
    assert.ok(labels.labels.some((l) => l.label === 'person' && l.count >= 1));
    assert.deepEqual(labels, await ok(sqlite.base, '/api/labels?prefix=pe&limit=5'));
    assert.deepEqual(await ok(server, '/api/labels'), await ok(sqlite.base, '/api/labels'));
    const errors = await ok(server, '/api/errors?limit=1');
    assert.equal(errors.items[0].name, 'broken.jpg');
    assert.ok(errors.items[0].error.length > 0);
    assert.equal((await json(server, '/api/errors?cursor=zz')).status, 400);
    const status = await ok(server, '/api/status');
    assert.equal(status.total, 8);
    assert.equal(status.failed, 1);
  });
});
