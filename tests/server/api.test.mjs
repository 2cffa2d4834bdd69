// Every read endpoint against the real server over a real indexed catalog, checked against the
// served OpenAPI document.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { HOSTILE_NAME, json, makeLibrary, startServer } from './harness.mjs';
import { responseSchema, validate } from './schema.mjs';

let lib, server, base, doc;

before(async () => {
  lib = makeLibrary();
  server = await startServer(['--catalog', lib.catalog, '--library', lib.lib]);
  base = server.base;
  doc = (await json(base, '/api/openapi.json')).body;
});
after(async () => {
  const code = await server.stop();
  assert.equal(code, 0, 'SIGTERM exits 0');
  fs.rmSync(lib.dir, { recursive: true, force: true });
});

// Fetches JSON and checks it against the document's schema for that route and status.
async function checked(p, template, { method = 'get', status = 200 } = {}) {
  const r = await json(base, p, { method: method.toUpperCase() });
  assert.equal(r.status, status, `${p}: ${JSON.stringify(r.body)}`);
  const schema = responseSchema(doc, template, method, status);
  assert.deepEqual(validate(doc, schema, r.body), [], `${p} conforms to the OpenAPI document`);
  return r.body;
}

async function all(query) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < 50; i++) {
    const b = await checked(`/api/media?limit=2&${query}${cursor ? `&cursor=${cursor}` : ''}`, '/api/media');
    items.push(...b.items);
    cursor = b.next_cursor;
    if (!cursor) break;
  }
  return items;
}

describe('api', () => {
  test('healthz, openapi', async () => {
    assert.deepEqual(await checked('/healthz', '/healthz'), { ok: true });
    assert.equal(doc.openapi, '3.1.0');
    for (const p of ['/api/media', '/api/media/{id}', '/api/thumbs/{id}/{size}/{hash}', '/api/events', '/metrics']) {
      assert.ok(doc.paths[p], `${p} documented`);
    }
  });

  test('security headers on every answer', async () => {
    const r = await fetch(base + '/healthz');
    assert.match(r.headers.get('content-security-policy'), /default-src 'self'/);
    assert.match(r.headers.get('content-security-policy'), /frame-ancestors 'none'/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  });

  test('media list pages with a stable cursor and no duplicates', async () => {
    const first = await checked('/api/media?limit=100', '/api/media');
    assert.equal(first.next_cursor, null);
    assert.equal(first.items.length, 8);
    const paged = await all('');
    assert.deepEqual(paged.map((i) => i.id), first.items.map((i) => i.id));
    const byScore = await all('sort=score');
    assert.equal(new Set(byScore.map((i) => i.id)).size, 8);
    for (let i = 1; i < byScore.length; i++) assert.ok(byScore[i - 1].best_score >= byScore[i].best_score);
    const bad = await json(base, '/api/media?cursor=zz');
    assert.equal(bad.status, 400);
  });

  test('q filters: labels all/any, score, folder, status, dates; unknown words are 400', async () => {
    const person = await all('q=person');
    assert.ok(person.length >= 1);
    for (const i of person) assert.ok(i.labels.includes('person'), JSON.stringify(i));
    const names = (items) => items.map((i) => i.name).sort();
    const anyOf = await all('q=' + encodeURIComponent('person|cat'));
    assert.ok(anyOf.length >= person.length);
    const both = await all('q=' + encodeURIComponent('person cat'));
    for (const i of both) assert.ok(i.labels.includes('person') && i.labels.includes('cat'));
    const high = await all('q=' + encodeURIComponent('score>0.5'));
    for (const i of high) assert.ok(i.best_score >= 0.5);
    assert.deepEqual(names(await all('q=' + encodeURIComponent('folder:2024/trip'))), ['human-samples.jpg', 'sklearn-china.jpg']);
    assert.deepEqual(names(await all('folder=2024/trip')), ['human-samples.jpg', 'sklearn-china.jpg']);
    assert.deepEqual(names(await all('q=status:failed')), ['broken.jpg']);
    const dated = await all('q=' + encodeURIComponent('after:2000-01-01'));
    assert.ok(dated.length >= 1 && dated.every((i) => i.capture_time !== null), JSON.stringify(dated));
    assert.equal((await all('q=' + encodeURIComponent('before:1990-01-01'))).length, 0);
    assert.equal((await all('labels=person&min_score=0.99')).length, 0);
    for (const q of ['colour:red', 'score>abc', 'after:yesterday', 'status:bogus']) {
      const r = await json(base, '/api/media?q=' + encodeURIComponent(q));
      assert.equal(r.status, 400, q);
      assert.match(r.body.error, /^q: /);
    }
  });

  test('detail: detections in upright pixels and 0-1, EXIF-rotated size', async () => {
    const list = await all('');
    const rotated = list.find((i) => i.name === 'exif_orientation_6.jpg');
    const d = await checked(`/api/media/${rotated.id}`, '/api/media/{id}');
    assert.equal(d.orientation, 6);
    // The file stores 48x64 pixels; orientation 6 turns them a quarter: 64x48 upright.
    assert.deepEqual([d.width, d.height], [64, 48]);
    const person = (await all('q=person'))[0];
    const p = await checked(`/api/media/${person.id}`, '/api/media/{id}');
    assert.ok(p.detections.length > 0);
    for (const det of p.detections) {
      assert.ok(Math.abs(det.box_norm[0] - det.box[0] / p.width) < 1e-3);
      assert.ok(Math.abs(det.box_norm[3] - det.box[3] / p.height) < 1e-3);
      assert.equal(det.time, null);
    }
    const video = list.find((i) => i.kind === 'video');
    const v = await checked(`/api/media/${video.id}`, '/api/media/{id}');
    assert.ok(v.duration_s > 0);
    assert.ok(v.detections.every((x) => typeof x.time === 'number'));
    assert.equal((await json(base, '/api/media/999999')).status, 404);
  });

  test('original: by id, content type, ranges', async () => {
    const item = (await all('')).find((i) => i.name === 'sklearn-china.jpg');
    const r = await fetch(`${base}/api/media/${item.id}/original`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/jpeg');
    const bytes = Buffer.from(await r.arrayBuffer());
    assert.deepEqual(bytes, fs.readFileSync(path.join(lib.lib, '2024', 'trip', 'sklearn-china.jpg')));
    const part = await fetch(`${base}/api/media/${item.id}/original`, { headers: { Range: 'bytes=2-5' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 2-5/${bytes.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(2, 6));
    const bad = await fetch(`${base}/api/media/${item.id}/original`, { headers: { Range: `bytes=${bytes.length + 5}-` } });
    assert.equal(bad.status, 416);
  });

  test('thumbnails: size, orientation, immutable, ETag/304, placeholder', async () => {
    const list = await all('');
    const china = list.find((i) => i.name === 'sklearn-china.jpg');
    const r = await fetch(base + china.thumb);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/webp');
    assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const etag = r.headers.get('etag');
    const size = webpSize(Buffer.from(await r.arrayBuffer()));
    assert.equal(Math.max(size.width, size.height), 250);
    const again = await fetch(base + china.thumb, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    const detail = await json(base, `/api/media/${china.id}`);
    const preview = webpSize(Buffer.from(await (await fetch(base + detail.body.thumbs.preview)).arrayBuffer()));
    assert.ok(Math.max(preview.width, preview.height) <= 1440 && preview.width > 250);

    const rotated = list.find((i) => i.name === 'exif_orientation_6.jpg');
    const rs = webpSize(Buffer.from(await (await fetch(base + rotated.thumb)).arrayBuffer()));
    assert.deepEqual([rs.width, rs.height], [64, 48], 'the thumbnail is upright (never upscaled)');

    const broken = list.find((i) => i.name === 'broken.jpg');
    const b = await fetch(base + broken.thumb);
    assert.equal(b.status, 200);
    assert.ok(b.headers.get('x-mediadex-error'), 'placeholder says why');
    assert.equal(b.headers.get('cache-control'), 'no-store');
    const stale = await fetch(base + china.thumb.replace(/[0-9a-f]+$/, 'deadbeef'));
    assert.equal(stale.status, 404);
    assert.equal((await fetch(`${base}/api/thumbs/${china.id}/huge/${china.thumb.split('/').pop()}`)).status, 404);
  });

  test('concurrent first requests make one thumbnail file', async () => {
    const astronaut = (await all('')).find((i) => i.name === 'astronaut.png');
    const url = base + astronaut.thumb.replace('/grid/', '/preview/');
    const answers = await Promise.all(Array.from({ length: 16 }, () => fetch(url).then(async (r) => [r.status, (await r.arrayBuffer()).byteLength])));
    for (const [status, n] of answers) assert.ok(status === 200 && n > 0);
    const dir = path.join(lib.catalog + '.thumbs', 'preview');
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith(`${astronaut.id}-`)).length, 1);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });

  test('labels, errors, status', async () => {
    const labels = await checked('/api/labels?prefix=pe&limit=5', '/api/labels');
    assert.ok(labels.labels.some((l) => l.label === 'person' && l.count >= 1));
    assert.ok(labels.labels.every((l) => l.label.toLowerCase().startsWith('pe')));
    const errors = await checked('/api/errors?limit=1', '/api/errors');
    assert.equal(errors.items[0].name, 'broken.jpg');
    assert.ok(errors.items[0].error.length > 0);
    const status = await checked('/api/status', '/api/status');
    assert.equal(status.total, 8);
    assert.equal(status.failed, 1);
    assert.equal(status.run, null);
    assert.equal((await json(base, '/api/labels?limit=1000')).status, 400);
  });

  test('hostile file names come back as JSON text, never markup', async () => {
    const item = (await all('')).find((i) => i.name === HOSTILE_NAME);
    assert.ok(item, 'the hostile name round-trips exactly');
    const raw = await (await fetch(`${base}/api/media/${item.id}`)).text();
    assert.ok(raw.includes('<script>alert(\\"x\\")'), 'quotes escaped by JSON');
    const r = await fetch(`${base}/api/media/${item.id}`);
    assert.match(r.headers.get('content-type'), /^application\/json/);
  });

  test('metrics: Prometheus text format, route templates only', async () => {
    const r = await fetch(base + '/metrics');
    assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    for (const name of ['mediadex_images_indexed_total', 'mediadex_index_errors_total', 'mediadex_index_queue_depth',
      'mediadex_http_requests_total', 'process_resident_memory_bytes', 'mediadex_build_info']) {
      assert.match(text, new RegExp(`^# TYPE ${name} (counter|gauge)$`, 'm'), name);
    }
    assert.match(text, /^# TYPE mediadex_inference_seconds histogram$/m);
    assert.match(text, /^mediadex_inference_seconds_bucket\{le="\+Inf"\} \d+$/m);
    assert.match(text, /^mediadex_http_requests_total\{route="\/api\/media\/\{id\}",code="200"\} \d+$/m);
    assert.ok(!text.includes(lib.dir), 'no file paths in metrics');
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
      assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{(\w+="([^"\\]|\\.)*",?)+\})? -?[0-9.e+-]+$/, line);
    }
  });

  test('static: index.html for /, 404 elsewhere', async () => {
    const r = await fetch(base + '/');
    const hasWeb = fs.existsSync(path.join(process.env.MEDIADEX_SOURCE_DIR, 'web', 'index.html'));
    assert.equal(r.status, hasWeb ? 200 : 404);
    if (hasWeb) assert.match(r.headers.get('content-type'), /^text\/html/);
    assert.equal((await fetch(base + '/no-such-file.js')).status, 404);
    assert.equal((await fetch(base + '/api/nothing')).status, 404);
    assert.equal((await fetch(base + '/api/media', { method: 'DELETE' })).status, 405);
  });
});

// Width and height from a WebP file's VP8/VP8L/VP8X header.
function webpSize(b) {
  assert.equal(b.toString('latin1', 0, 4), 'RIFF');
  assert.equal(b.toString('latin1', 8, 12), 'WEBP');
  const chunk = b.toString('latin1', 12, 16);
  if (chunk === 'VP8 ') return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
  if (chunk === 'VP8L') {
    const bits = b.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') return { width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3) };
  throw new Error(`unknown WebP chunk ${chunk}`);
}
