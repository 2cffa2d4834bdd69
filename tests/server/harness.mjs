// Shared by the server tests: a real library (real photos, a video, a broken file, a hostile
// name), indexed by the real binary into a real SQLite catalog, and `mediadex serve --port 0`.
// Environment (set by CTest): MEDIADEX_BIN, MEDIADEX_SOURCE_DIR, MEDIADEX_PHOTOS_DIR, MEDIADEX_MODEL_DIR.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const BIN = process.env.MEDIADEX_BIN;
export const SRC = process.env.MEDIADEX_SOURCE_DIR;
if (!BIN || !fs.existsSync(BIN)) throw new Error(`MEDIADEX_BIN (${BIN}) is not the built mediadex binary`);
if (!SRC) throw new Error('MEDIADEX_SOURCE_DIR is not set');

export const HOSTILE_NAME = `<script>alert("x")<script>'&.png`;

// Builds the library and its catalog once per test file: an SQLite file in the temp dir, or
// `catalog` (a postgresql:// URL) when given. A later indexCatalog() indexes it into another.
export function makeLibrary({ catalog } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediadex-serve-'));
  const lib = path.join(dir, 'lib');
  const trip = path.join(lib, '2024', 'trip');
  fs.mkdirSync(trip, { recursive: true });
  const photos = process.env.MEDIADEX_PHOTOS_DIR || path.join(SRC, 'samples');
  for (const f of ['human-samples.jpg', 'sklearn-china.jpg']) {
    const from = fs.existsSync(path.join(photos, f)) ? path.join(photos, f) : path.join(SRC, 'samples', f);
    fs.copyFileSync(from, path.join(trip, f));
  }
  fs.copyFileSync(path.join(SRC, 'samples', 'skimage-astronaut.png'), path.join(lib, 'astronaut.png'));
  fs.copyFileSync(path.join(SRC, 'tests', 'data', 'exif_orientation_6.jpg'), path.join(lib, 'exif_orientation_6.jpg'));
  fs.copyFileSync(path.join(SRC, 'tests', 'data', 'exif_time.jpg'), path.join(lib, 'exif_time.jpg'));
  fs.copyFileSync(path.join(SRC, 'tests', 'data', 'clip.mp4'), path.join(lib, 'clip.mp4'));
  fs.copyFileSync(path.join(SRC, 'samples', 'skimage-chelsea.png'), path.join(lib, HOSTILE_NAME));
  fs.writeFileSync(path.join(lib, 'broken.jpg'), Buffer.from('\xff\xd8\xff this is not a JPEG', 'latin1'));
  const into = catalog || path.join(dir, 'catalog.db');
  indexCatalog(lib, into);
  return { dir, lib, catalog: into };
}

// `mediadex index` of `lib` into `catalog` (a file or a URL).
export function indexCatalog(lib, catalog) {
  const r = spawnSync(BIN, ['-q', 'index', '--quiet', '--catalog', catalog, lib], { encoding: 'utf8', env: testEnv() });
  // Exit 1: some files failed (broken.jpg), as intended.
  if (r.status !== 0 && r.status !== 1) throw new Error(`mediadex index failed (${r.status}): ${r.stderr}`);
}

export function testEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  for (const k of Object.keys(env)) if (k.startsWith('MEDIADEX_') && !['MEDIADEX_MODEL_DIR'].includes(k) && !(k in extra)) delete env[k];
  env.XDG_CONFIG_HOME = env.XDG_CONFIG_HOME || os.tmpdir();  // no user settings file
  return env;
}

// Starts `mediadex serve` and resolves once it printed its address.
export function startServer(args, env = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['serve', '--port', '0', ...args], { env: testEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 20000);
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^listening on (http:\/\/\S+)$/m);
      if (m) {
        clearTimeout(timer);
        resolve({ base: m[1], proc, stderr: () => err, stop: () => stop(proc) });
      }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited ${code}: ${err}`)); });
  });
}

export function stop(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve(proc.exitCode);
    proc.removeAllListeners('exit');
    proc.on('exit', (code) => resolve(code));
    proc.kill('SIGTERM');
  });
}

// A raw HTTP request over a socket (fetch would normalise "../" away); resolves with the
// status code and the whole answer text.
export function rawRequest(base, text) {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => socket.write(text));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => { data += d; });
    socket.on('error', (e) => (data ? resolve(parse(data)) : reject(e)));
    socket.on('end', () => resolve(parse(data)));
    socket.setTimeout(10000, () => { socket.destroy(); reject(new Error('raw request timed out')); });
  });
  function parse(d) {
    const m = d.match(/^HTTP\/1\.1 (\d{3})/);
    return { status: m ? Number(m[1]) : 0, text: d };
  }
}

export async function json(base, p, init) {
  const r = await fetch(base + p, init);
  return { status: r.status, headers: r.headers, body: await r.json() };
}
