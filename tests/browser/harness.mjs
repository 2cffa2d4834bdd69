// What every browser test needs: the real mediadex binary serving a real catalog indexed from
// real photos, and Debian's Chromium driven by playwright-core with a fresh profile.
// Anything missing is an error with the reason: these tests fail, they never skip.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = process.env.MEDIADEX_SOURCE_DIR || path.resolve(here, '../..');
export const BINARY = process.env.MEDIADEX_BINARY || path.join(SOURCE_DIR, 'build/mediadex');
export const CHROMIUM = process.env.MEDIADEX_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = process.env.MEDIADEX_ARTIFACTS || path.join(path.dirname(BINARY), 'test-artifacts/browser');
export const SHARED_PHOTOS = process.env.MEDIADEX_PHOTOS_DIR || path.resolve(SOURCE_DIR, '../shared/testdata/photos');

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

async function loadPlaywright() {
  try {
    return await import('playwright-core');
  } catch (err) {
    throw new Error(`playwright-core is not installed in ${here}/node_modules (run: npm ci --prefix tests/browser): ${err.message}`);
  }
}

export function requireFile(file, what, fix) {
  if (!fs.existsSync(file)) throw new Error(`${what} not found at ${file}${fix ? ` (${fix})` : ''}`);
}

export function tempDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `mediadex-browser-${name}-`));
}

// A browser with a fresh user-data dir; close() removes the profile.
export async function launchBrowser({ width = 1280, height = 800 } = {}) {
  requireFile(CHROMIUM, 'Chromium', 'apt-get install -y --no-install-recommends chromium, or set MEDIADEX_CHROMIUM');
  const { chromium } = await loadPlaywright();
  const profile = tempDir('profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width, height },
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(15000);
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });
  page.on('dialog', (d) => {
    problems.push(`dialog opened: ${d.message()}`); // an alert() would mean a file name ran as markup
    d.dismiss();
  });
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

// A JPEG with an EXIF APP1 segment saying orientation 6 (rotate 90° clockwise to view),
// inserted after SOI: the pixels stay as they are, so the upright picture is the sideways one.
export function withOrientation6(jpeg) {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('withOrientation6: not a JPEG');
  const tiff = Buffer.from([
    0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, // "II", 42, IFD0 at 8
    0x01, 0x00, // one entry
    0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, // Orientation SHORT 1 = 6
    0x00, 0x00, 0x00, 0x00, // no next IFD
  ]);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(payload.length + 2);
  // Keep a JFIF APP0 first if there is one.
  let at = 2;
  if (jpeg[2] === 0xff && jpeg[3] === 0xe0) at = 4 + jpeg.readUInt16BE(4);
  return Buffer.concat([jpeg.subarray(0, at), Buffer.from([0xff, 0xe1]), len, payload, jpeg.subarray(at)]);
}

export const HOSTILE_NAME = '<img src=x onerror=alert(1)>.jpg';

// The small library of the gallery tests: the bundled samples, a sideways-stored (EXIF 6) copy of
// human-samples.jpg, the EXIF test photo, a video, a broken file and a file with a hostile name.
export function makeSmallLibrary(root) {
  const lib = path.join(root, 'library');
  const trip = path.join(lib, '2024', 'trip');
  fs.mkdirSync(trip, { recursive: true });
  const samples = path.join(SOURCE_DIR, 'samples');
  for (const f of fs.readdirSync(samples)) {
    if (/\.(jpe?g|png)$/i.test(f)) fs.copyFileSync(path.join(samples, f), path.join(lib, f));
  }
  const data = path.join(SOURCE_DIR, 'tests', 'data');
  fs.copyFileSync(path.join(data, 'exif_orientation_6.jpg'), path.join(trip, 'exif_orientation_6.jpg'));
  fs.copyFileSync(path.join(data, 'clip.mp4'), path.join(trip, 'clip.mp4'));
  const people = fs.readFileSync(path.join(samples, 'human-samples.jpg'));
  fs.writeFileSync(path.join(trip, 'people-rotated.jpg'), withOrientation6(people));
  fs.writeFileSync(path.join(lib, 'broken.jpg'), people.subarray(0, 4000)); // truncated: fails to decode
  fs.copyFileSync(path.join(samples, 'skimage-chelsea.png'), path.join(lib, HOSTILE_NAME));
  return lib;
}

// A library big enough that a cancel lands mid-run: distinct copies (a trailing byte after the
// JPEG's end changes its content hash, not its picture) of the shared test photos.
export function makeBigLibrary(root, copies = 40) {
  requireFile(SHARED_PHOTOS, 'the shared test photos', 'set MEDIADEX_PHOTOS_DIR');
  const lib = path.join(root, 'big');
  fs.mkdirSync(lib, { recursive: true });
  const jpegs = fs.readdirSync(SHARED_PHOTOS).filter((f) => /\.jpe?g$/i.test(f));
  for (const f of jpegs) {
    const bytes = fs.readFileSync(path.join(SHARED_PHOTOS, f));
    for (let i = 0; i < copies; i++) {
      fs.writeFileSync(path.join(lib, `${i}-${f}`), Buffer.concat([bytes, Buffer.from(String(i))]));
    }
  }
  return lib;
}

// `mediadex index`; it exits 1 when some files failed, which the small library means to happen.
export function index(catalog, dir, { allowFailures = true } = {}) {
  requireFile(BINARY, 'the mediadex binary', 'build it, or set MEDIADEX_BINARY');
  const r = spawnSync(BINARY, ['index', '--quiet', '--catalog', catalog, dir], { encoding: 'utf8' });
  if (r.error) throw new Error(`mediadex index: ${r.error.message}`);
  if (r.status === 0 || (allowFailures && r.status === 1 && fs.existsSync(catalog))) return;
  throw new Error(`mediadex index ${dir} exited with ${r.status}: ${r.stderr.trim()}`);
}

// `mediadex serve --port 0`; resolves with {url, stop} once it prints "listening on URL".
export function serve({ catalog, library, extra = [] }) {
  requireFile(BINARY, 'the mediadex binary', 'build it, or set MEDIADEX_BINARY');
  const args = ['serve', '--port', '0', '--catalog', catalog];
  if (library) args.push('--library', library);
  args.push(...extra);
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // A test that dies midway must not leave its server running.
  const reap = () => child.exitCode === null && child.kill('SIGKILL');
  process.once('exit', reap);
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mediadex serve printed no "listening on" line in 20 s; stderr: ${stderr}`));
    }, 20000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mediadex serve exited with ${code} before listening; stderr: ${stderr}`));
    });
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        url: m[1].replace(/\/$/, ''),
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done(child.exitCode);
            const kill = setTimeout(() => child.kill('SIGKILL'), 10000);
            child.on('exit', (c) => {
              clearTimeout(kill);
              done(c);
            });
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

export async function api(base, p, init) {
  const res = await fetch(base + p, init);
  const body = await res.json();
  if (!res.ok) throw new Error(`${p}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}
