// Traversal in every form, tokens beyond loopback, oversized requests, injection via names.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { BIN, HOSTILE_NAME, json, makeLibrary, rawRequest, startServer, testEnv } from './harness.mjs';
import { spawnSync } from 'node:child_process';

let lib, server;

before(async () => {
  lib = makeLibrary();
  server = await startServer(['--catalog', lib.catalog]);
});
after(async () => {
  assert.equal(await server.stop(), 0);
  fs.rmSync(lib.dir, { recursive: true, force: true });
});

const get = (path, headers = '') => rawRequest(server.base, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n`);

describe('traversal', () => {
  const targets = [
    '/../../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd', '/%2e%2e%2f%2e%2e%2fetc/passwd',
    '/js/../../etc/passwd', '/..\\..\\etc\\passwd', '//etc/passwd', '/etc/passwd', '/%2Fetc%2Fpasswd',
    '/.%2e/.%2e/etc/passwd', '/%252e%252e/etc/passwd', '/index.html%00.js', '/.git/config',
    '/api/media/../../../etc/passwd/original', '/api/media/%2e%2e/original', '/api/media/-1/original',
    '/api/media/abc/original', '/api/media/1e3/original', '/api/media/0x10/original', '/api/media/99999999999999999999/original',
    '/api/media/9223372036854775807', '/api/media/%2Fetc%2Fpasswd/original', '/api/media/%20%31/original',
    '/api/thumbs/1/../../../etc/passwd/x', '/api/thumbs/1/grid/..%2f..%2fetc', '/api/thumbs/abc/grid/0',
  ];
  for (const t of targets) {
    test(t, async () => {
      const r = await get(t);
      assert.ok([400, 404].includes(r.status), `${t}: ${r.status}`);
      assert.ok(!r.text.includes('root:x:0:0'), 'never /etc/passwd');
    });
  }
  test('a path in a query parameter is just a value', async () => {
    const r = await json(server.base, '/api/media?folder=' + encodeURIComponent('../../etc'));
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.items, []);
  });
});

describe('traversal with --dev (web/ read from the source tree)', () => {
  let dev;
  before(async () => { dev = await startServer(['--catalog', lib.catalog, '--dev']); });
  after(async () => assert.equal(await dev.stop(), 0));
  for (const t of ['/../CMakeLists.txt', '/%2e%2e/CMakeLists.txt', '/..%2fCMakeLists.txt', '/js/../../README.md',
    '/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/.%2e/src/server/server.cpp', '//etc/passwd']) {
    test(t, async () => {
      const r = await rawRequest(dev.base, `GET ${t} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.ok([400, 404].includes(r.status), `${t}: ${r.status}`);
      assert.ok(!r.text.includes('cmake_minimum_required') && !r.text.includes('root:x:0:0'));
    });
  }
});

describe('limits', () => {
  test('oversized headers: 431, and the server keeps serving', async () => {
    const r = await get('/healthz', `X-Big: ${'a'.repeat(64 * 1024)}\r\n`);
    assert.ok([431, 400].includes(r.status) || r.status === 0, `status ${r.status}`);
    assert.equal((await json(server.base, '/healthz')).status, 200);
  });
  test('oversized body: 413', async () => {
    const body = 'x'.repeat(200 * 1024);
    const r = await rawRequest(server.base, `POST /api/runs HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    assert.equal(r.status, 413);
  });
  test('a long URL is refused, not served', async () => {
    const r = await get('/api/media?q=' + 'a'.repeat(40 * 1024));
    assert.ok([431, 400, 414].includes(r.status), `status ${r.status}`);
  });
  test('garbage is not HTTP', async () => {
    const r = await rawRequest(server.base, 'NOT HTTP AT ALL\r\n\r\n');
    assert.ok(r.status === 0 || r.status === 400);
    assert.equal((await json(server.base, '/healthz')).status, 200);
  });
});

describe('injection through file names', () => {
  test('JSON stays JSON; the name round-trips as text', async () => {
    const r = await fetch(server.base + '/api/media?limit=100');
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    const body = await r.json();
    assert.ok(body.items.some((i) => i.name === HOSTILE_NAME));
  });
  test('a name in q is bound, not SQL', async () => {
    for (const q of [`' OR 1=1 --`, `"; DROP TABLE media; --`, `dog' UNION SELECT path FROM media --`]) {
      const r = await json(server.base, '/api/media?labels=' + encodeURIComponent(q));
      assert.equal(r.status, 200, q);
      assert.deepEqual(r.body.items, []);
    }
    assert.equal((await json(server.base, '/api/status')).body.total, 8, 'the catalog is intact');
  });
});

describe('token', () => {
  let tokened;
  before(async () => {
    tokened = await startServer(['--catalog', lib.catalog, '--bind', '127.0.0.1', '--token', 's3cret-token']);
  });
  after(async () => assert.equal(await tokened.stop(), 0));

  test('missing or wrong token: 401 on every route', async () => {
    for (const p of ['/healthz', '/api/media', '/api/media/1/original', '/api/events', '/metrics', '/', '/api/openapi.json']) {
      assert.equal((await fetch(tokened.base + p)).status, 401, p);
      assert.equal((await fetch(tokened.base + p, { headers: { Authorization: 'Bearer wrong' } })).status, 401, p);
      assert.equal((await fetch(tokened.base + p, { headers: { Cookie: 'mediadex_token=s3cret-tokeN' } })).status, 401, p);
    }
    assert.equal((await fetch(tokened.base + '/?token=nope', { redirect: 'manual' })).status, 401);
  });
  test('Bearer and the cookie set by /?token= work', async () => {
    assert.equal((await fetch(tokened.base + '/api/media', { headers: { Authorization: 'Bearer s3cret-token' } })).status, 200);
    const login = await fetch(tokened.base + '/?token=s3cret-token', { redirect: 'manual' });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/');
    const cookie = login.headers.get('set-cookie');
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const r = await fetch(tokened.base + '/api/status', { headers: { Cookie: cookie.split(';')[0] } });
    assert.equal(r.status, 200);
  });
  test('a non-loopback bind without a token refuses to start', () => {
    const r = spawnSync(BIN, ['serve', '--catalog', lib.catalog, '--bind', '0.0.0.0', '--port', '0'], { encoding: 'utf8', env: testEnv(), timeout: 20000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--token/);
    const env = spawnSync(BIN, ['serve', '--catalog', lib.catalog, '--port', '0'], { encoding: 'utf8', env: testEnv({ MEDIADEX_BIND: '0.0.0.0' }), timeout: 20000 });
    assert.notEqual(env.status, 0);
    assert.match(env.stderr, /MEDIADEX_TOKEN/);
  });
});
