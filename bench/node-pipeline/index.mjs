#!/usr/bin/env node
// The indexing job done the way the original Node app did it, as the baseline `mediadex index`
// is benchmarked against (issue #3, "Benchmark"):
//
//   node bench/node-pipeline/index.mjs --model models/centernet.json --db out.db [--sharp-resize]
//        [--concurrency 3] DIR...
//
// Recursive scan (jpg/jpeg/png/webp) -> per file, 3 in flight (the app's DEFAULT_CONCURRENCY):
// read file, sharp decode to raw RGB (alpha dropped), tf.tensor -> cast -> resizeBilinear to
// 512x512 -> model.execute('tower_0/detections') -> NMS (IoU 0.4, min score 0.2, at most 10)
// -> one better-sqlite3 transaction per file (media row + its detections). A file that fails is
// stored with status 'failed' and its error text, and the run goes on.
// Prints one JSON line: {files, done, failed, seconds, images_per_s, startup_s, peak_rss_mb, ...}.

import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import Database from 'better-sqlite3';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { kLabels, loadLocalGraphModel } from '../tfjs/centernet.mjs';

const kInputSize = 512;
const kOutputNode = 'tower_0/detections';
const kMaxDetected = 10;
const kIouThreshold = 0.4;
const kMinScore = 0.2;
const kSharpResizeMax = 1024;
const kExtensions = new Set(['.jpg', '.jpeg', '.png', '.webp']);

const kUsage = 'usage: index.mjs --model M.json --db OUT.db [--sharp-resize] [--concurrency N] DIR...';

function parseArgs(argv) {
  const args = { model: null, db: null, sharpResize: false, concurrency: 3, dirs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--model') args.model = next();
    else if (a === '--db') args.db = next();
    else if (a === '--sharp-resize') args.sharpResize = true;
    else if (a === '--concurrency') args.concurrency = Number(next());
    else if (a === '-h' || a === '--help') { console.log(kUsage); process.exit(0); }
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}\n${kUsage}`);
    else args.dirs.push(a);
  }
  if (!args.model || !args.db || args.dirs.length === 0) throw new Error(kUsage);
  if (!Number.isInteger(args.concurrency) || args.concurrency < 1) {
    throw new Error('--concurrency must be a positive integer');
  }
  return args;
}

// Depth-first walk; symlinks are not followed (no loops), unreadable folders are reported and
// skipped, hidden entries skipped, as the original's scanner did.
function scan(roots) {
  const files = [];
  const walk = (dir) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      console.error(`${dir}: ${err.message}`);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && kExtensions.has(path.extname(e.name).toLowerCase())) files.push(p);
    }
  };
  for (const root of roots) {
    const st = fs.statSync(root, { throwIfNoEntry: false });
    if (!st) throw new Error(`${root}: no such file or folder`);
    if (st.isDirectory()) walk(root);
    else files.push(root);
  }
  return files;
}

function openCatalog(file) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS media (
      id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, size INTEGER, mtime REAL,
      width INTEGER, height INTEGER, status TEXT NOT NULL, error TEXT, indexed_at REAL);
    CREATE TABLE IF NOT EXISTS detections (
      media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE, label TEXT NOT NULL,
      class INTEGER NOT NULL, score REAL NOT NULL, x1 REAL, y1 REAL, x2 REAL, y2 REAL);
    CREATE INDEX IF NOT EXISTS detections_label ON detections(label);
    CREATE INDEX IF NOT EXISTS detections_media ON detections(media_id);`);
  const upsert = db.prepare(`
    INSERT INTO media (path, size, mtime, width, height, status, error, indexed_at)
    VALUES (@path, @size, @mtime, @width, @height, @status, @error, @indexed_at)
    ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime,
      width = excluded.width, height = excluded.height, status = excluded.status,
      error = excluded.error, indexed_at = excluded.indexed_at
    RETURNING id`);
  const clear = db.prepare('DELETE FROM detections WHERE media_id = ?');
  const insertDet = db.prepare(`
    INSERT INTO detections (media_id, label, class, score, x1, y1, x2, y2)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  // One transaction per file: its media row and its detections commit together.
  const store = db.transaction((row, detections) => {
    const { id } = upsert.get(row);
    clear.run(id);
    for (const d of detections) insertDet.run(id, d.label, d.class, d.score, ...d.box);
  });
  return { db, store };
}

// sharp decode to raw 8-bit RGB, no EXIF rotation (human does none). With --sharp-resize, sharp
// first shrinks to fit 1024x1024 (libjpeg shrink-on-load), as an app making previews would.
async function decode(buf, sharpResize) {
  let img = sharp(buf, { failOn: 'error', limitInputPixels: 100_000_000 });
  const meta = await img.metadata();
  if (sharpResize) {
    img = img.resize(kSharpResizeMax, kSharpResizeMax, { fit: 'inside', withoutEnlargement: true });
  }
  const { data, info } = await img.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
  return { data, info, width: meta.width, height: meta.height };
}

// human's centernet.ts: resizeBilinear to 512 (alignCorners/halfPixelCenters false), execute,
// NMS on [y1,x1,y2,x2], labels, boxes scaled to the original image's pixels.
async function detect(model, decoded) {
  const { data, info, width, height } = decoded;
  const input = tf.tidy(() => {
    const pixels = tf.tensor4d(data, [1, info.height, info.width, 3], 'int32');
    return tf.image.resizeBilinear(tf.cast(pixels, 'float32'), [kInputSize, kInputSize]);
  });
  const out = model.execute(input, kOutputNode);
  tf.dispose(input);
  const raw = (await out.array())[0];
  tf.dispose(out);
  const boxes = tf.tensor2d(raw.map((d) => [d[1], d[0], d[3], d[2]]));
  const scores = tf.tensor1d(raw.map((d) => d[4]));
  const nmsT = await tf.image.nonMaxSuppressionAsync(boxes, scores, kMaxDetected, kIouThreshold,
    kMinScore);
  const keep = await nmsT.data();
  tf.dispose([boxes, scores, nmsT]);
  const detections = [];
  for (const id of keep) {
    const r = raw[id];
    if (Number.isNaN(r[5])) continue;
    detections.push({
      label: kLabels[r[5]] ?? `class ${r[5]}`,
      class: r[5],
      score: r[4],
      box: [(r[0] / kInputSize) * width, (r[1] / kInputSize) * height,
        (r[2] / kInputSize) * width, (r[3] / kInputSize) * height],
    });
  }
  return detections;
}

async function main() {
  const t0 = process.hrtime.bigint();
  const args = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(args.model)) throw new Error(`${args.model}: model not found`);
  if (!(await tf.setBackend('wasm'))) throw new Error('TF.js wasm backend failed to start');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const model = await loadLocalGraphModel(tf, args.model);
  const { db, store } = openCatalog(args.db);
  const t1 = process.hrtime.bigint();

  const files = scan(args.dirs);
  let next = 0;
  let done = 0;
  let failed = 0;
  let detectionsTotal = 0;
  // The original app's pool: N async workers, each taking the next file; sharp decodes on
  // libuv's thread pool while TF.js wasm runs inference on the main thread.
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      const row = { path: path.resolve(file), size: null, mtime: null, width: null, height: null,
        status: 'done', error: null, indexed_at: Date.now() / 1000 };
      let detections = [];
      try {
        const st = await fs.promises.stat(file);
        row.size = st.size;
        row.mtime = st.mtimeMs / 1000;
        const buf = await fs.promises.readFile(file);
        const decoded = await decode(buf, args.sharpResize);
        row.width = decoded.width;
        row.height = decoded.height;
        detections = await detect(model, decoded);
        done++;
        detectionsTotal += detections.length;
      } catch (err) {
        row.status = 'failed';
        row.error = String(err.message ?? err).split('\n')[0];
        detections = [];
        failed++;
        console.error(`${file}: ${row.error}`);
      }
      store(row, detections);
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  db.close();
  const t2 = process.hrtime.bigint();

  const seconds = Number(t2 - t1) / 1e9;
  console.log(JSON.stringify({
    files: files.length,
    done,
    failed,
    detections: detectionsTotal,
    seconds: Number(seconds.toFixed(3)),
    images_per_s: Number((files.length / seconds).toFixed(3)),
    startup_s: Number((Number(t1 - t0) / 1e9).toFixed(3)),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    concurrency: args.concurrency,
    sharp_resize: args.sharpResize,
    transaction: 'per file',
    backend: tf.getBackend(),
    simd,
    tfjs_version: tf.version.tfjs,
    sharp_version: sharp.versions.sharp,
  }));
}

main().catch((err) => {
  console.error(`index.mjs: ${err.message}`);
  process.exit(1);
});
