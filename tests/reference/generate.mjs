#!/usr/bin/env node
// Generates the TF.js reference outputs that the C++ engine is tested against.
//
// For every photo in a directory it does exactly what @vladmandic/human@3.3.6 does for object
// detection (src/image/image.ts + src/object/centernet.ts), on the pure-JS CPU backend:
//   decode -> tf.cast to float32 [1,h,w,3] (0..255) -> tf.image.resizeBilinear to [512,512]
//   (align_corners=false, half_pixel_centers=false) -> model.execute(..., 'tower_0/detections')
//   -> NMS (IoU 0.4, min score 0.2, at most 10) on [y1,x1,y2,x2] -> labels[class].
// and writes fixtures/<photo file name>.json and fixtures/<photo file name>.input.f32.gz (gzip).
//
// Usage: node generate.mjs [PHOTO_DIR] [--model MODEL_JSON] [--out FIXTURE_DIR]
//                          [--jpeg-decoder libjpeg-turbo|jpeg-js]
//
// JPEG decoding: by default libjpeg-turbo (its WASM build, default TurboJPEG settings: accurate
// integer IDCT, fancy chroma upsampling), the library tfjs-node's decodeImage and mediadex both
// use. jpeg-js (a pdf.js port, pixel replication for chroma) differs from it by ~0.5-1 levels on
// average and up to 24 at colour edges, enough to move scores by more than 0.01; it stays
// available for comparison.

import zlib from 'node:zlib';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

const require = createRequire(import.meta.url);

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

// human's defaults (config.ts: object.minConfidence, iouThreshold, maxDetected).
const kMinScore = 0.2;
const kIouThreshold = 0.4;
const kMaxDetected = 10;
const kInputSize = 512;
const kOutputNode = 'tower_0/detections';

// human's src/object/labels.ts, indexed by the model's 0-based class value.
export const kLabels = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
  'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog',
  'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella',
  'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite',
  'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant',
  'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone',
  'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
  'teddy bear', 'hair drier', 'toothbrush',
];

function parseArgs(argv) {
  const args = {
    // The shared photo set beside the checkout, as tests/CMakeLists.txt finds it.
    photos: path.resolve(repoRoot, '..', 'shared', 'testdata', 'photos'),
    model: path.join(repoRoot, 'models', 'centernet.json'),
    out: path.join(here, 'fixtures'),
    jpegDecoder: 'libjpeg-turbo',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--model') args.model = argv[++i];
    else if (a === '--out') args.out = argv[++i];
    else if (a === '--jpeg-decoder') args.jpegDecoder = argv[++i];
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else args.photos = a;
  }
  if (args.jpegDecoder !== 'libjpeg-turbo' && args.jpegDecoder !== 'jpeg-js') {
    throw new Error(`--jpeg-decoder ${args.jpegDecoder}: expected libjpeg-turbo or jpeg-js`);
  }
  return args;
}

// Loads a graph model from local files: model.json plus the shards its weightsManifest names.
async function loadLocalGraphModel(modelJson) {
  const json = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  const dir = path.dirname(modelJson);
  const weightSpecs = [];
  const shards = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) shards.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const handler = {
    load: async () => ({
      modelTopology: json.modelTopology,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
      signature: json.signature,
      userDefinedMetadata: json.userDefinedMetadata,
      modelInitializer: json.modelInitializer,
      weightSpecs,
      weightData,
    }),
  };
  return tf.loadGraphModel(handler);
}

let turbo = null;
async function loadTurbo() {
  if (!turbo) turbo = await require('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs')();
  return turbo;
}

// libjpeg-turbo (WASM) -> packed RGB; grayscale expanded to R=G=B.
function decodeJpegTurbo(lib, file, buf) {
  const dec = new lib.JPEGDecoder();
  try {
    dec.getEncodedBuffer(buf.length).set(buf);
    dec.decode();
    const { width, height, componentCount } = dec.getFrameInfo();
    const data = dec.getDecodedBuffer().slice();
    if (componentCount === 3) return { width, height, rgb: data };
    if (componentCount !== 1) throw new Error(`${file}: ${componentCount}-component JPEG not supported`);
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) rgb.fill(data[i], i * 3, i * 3 + 3);
    return { width, height, rgb };
  } finally {
    dec.delete();
  }
}

// Decodes a JPEG or PNG into packed 8-bit RGB, the way TF.js's decoders present it:
// alpha dropped (not composited), grayscale expanded to RGB, 16-bit PNG scaled to 8-bit.
export async function decodeRgb(file, jpegDecoder = 'libjpeg-turbo') {
  const buf = fs.readFileSync(file);
  let rgba;
  let width;
  let height;
  const isJpeg = buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
  if (isJpeg && jpegDecoder === 'libjpeg-turbo') {
    return decodeJpegTurbo(await loadTurbo(), file, buf);
  } else if (isJpeg) {
    // 4000x3000 photos exceed jpeg-js's default 512 MB estimate; raise it.
    const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 4096 });
    ({ width, height } = img);
    rgba = img.data;
  } else if (buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47) {
    // pngjs always yields RGBA 8-bit: gray -> R=G=B, palette expanded,
    // 16-bit -> round(v * 255 / 65535).
    const img = PNG.sync.read(buf);
    ({ width, height } = img);
    rgba = img.data;
  } else {
    throw new Error(`${file}: not a JPEG or PNG file`);
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height * 4; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return { width, height, rgb };
}

// human's centernet.ts process(): NMS on [y1,x1,y2,x2], then labels and boxes in image pixels.
// Boxes and scores are kept untruncated (human truncates them for display only).
export async function postprocess(raw, width, height) {
  const boxes = tf.tensor2d(raw.map((d) => [d[1], d[0], d[3], d[2]]));
  const scores = tf.tensor1d(raw.map((d) => d[4]));
  const nmsT = await tf.image.nonMaxSuppressionAsync(boxes, scores, kMaxDetected, kIouThreshold,
    kMinScore);
  const nms = Array.from(await nmsT.data());
  tf.dispose([boxes, scores, nmsT]);
  const detections = [];
  for (const id of nms) {
    const classVal = raw[id][5];
    if (Number.isNaN(classVal)) continue;
    detections.push({
      label: kLabels[classVal],
      class: classVal,
      score: raw[id][4],
      box: [
        (raw[id][0] / kInputSize) * width,
        (raw[id][1] / kInputSize) * height,
        (raw[id][2] / kInputSize) * width,
        (raw[id][3] / kInputSize) * height,
      ],
      raw_index: id,
    });
  }
  return detections;
}

// JSON with one line per raw row and per detection, so fixture diffs stay readable.
function formatFixture(fixture) {
  const lines = Object.entries(fixture).filter(([, value]) => value !== undefined).map(([key, value]) => {
    if (key === 'raw' || key === 'detections') {
      const rows = value.map((row) => `  ${JSON.stringify(row)}`).join(',\n');
      return ` ${JSON.stringify(key)}: [\n${rows}\n ]`;
    }
    return ` ${JSON.stringify(key)}: ${JSON.stringify(value)}`;
  });
  return `{\n${lines.join(',\n')}\n}\n`;
}

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  // The .input.f32 files are little-endian float32; Float32Array uses the host's byte order.
  if (os.endianness() !== 'LE') throw new Error('this generator writes little-endian floats; run it on a little-endian host');
  await tf.setBackend('cpu');
  await tf.ready();
  if (!fs.existsSync(args.model)) throw new Error(`${args.model}: model not found (run scripts/fetch-model.sh)`);
  const model = await loadLocalGraphModel(args.model);
  const photos = fs.readdirSync(args.photos)
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort();
  if (photos.length === 0) throw new Error(`${args.photos}: no JPEG or PNG photos`);
  fs.mkdirSync(args.out, { recursive: true });
  const manifest = [];
  for (const name of photos) {
    const file = path.join(args.photos, name);
    const t0 = Date.now();
    const { width, height, rgb } = await decodeRgb(file, args.jpegDecoder);
    const raw = tf.tidy(() => {
      const pixels = tf.tensor4d(rgb, [1, height, width, 3], 'int32');
      const input = tf.cast(pixels, 'float32');
      return tf.image.resizeBilinear(input, [kInputSize, kInputSize]);
    });
    const inputData = await raw.data();
    const out = model.execute(raw, kOutputNode);
    const rawOut = (await out.array())[0];
    tf.dispose([raw, out]);
    const detections = await postprocess(rawOut, width, height);
    const fixture = {
      file: name,
      photo_sha256: sha256(file),
      width,
      height,
      model: path.basename(args.model),
      model_sha256: sha256(args.model),
      output_node: kOutputNode,
      raw: rawOut,
      detections,
      nms: { iou_threshold: kIouThreshold, min_score: kMinScore, max_detections: kMaxDetected },
      jpeg_decoder: /\.jpe?g$/i.test(name) ? args.jpegDecoder : undefined,
      tfjs_version: tf.version.tfjs,
      backend: tf.getBackend(),
    };
    fs.writeFileSync(path.join(args.out, `${name}.json`), formatFixture(fixture));
    const f32 = Buffer.from(inputData.buffer, inputData.byteOffset, inputData.byteLength);
    if (f32.length !== kInputSize * kInputSize * 3 * 4) throw new Error(`${name}: bad input size`);
    // gzip: the raw floats are 3 MiB a photo; compressed they travel and clone 40% lighter.
    fs.writeFileSync(path.join(args.out, `${name}.input.f32.gz`), zlib.gzipSync(f32, { level: 9 }));
    manifest.push(name);
    const summary = detections.map((d) => `${d.label} ${d.score.toFixed(3)}`).join(', ');
    console.log(`${name} ${width}x${height} ${Date.now() - t0} ms: ${summary || '(none)'}`);
  }
  fs.writeFileSync(path.join(args.out, 'index.json'),
    `${JSON.stringify({ tfjs_version: tf.version.tfjs, backend: tf.getBackend(), jpeg_decoder: args.jpegDecoder, photos: manifest }, null, 1)}\n`);
}

// Run only as a script, so that other tools can import decodeRgb/postprocess.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`generate.mjs: ${err.message}`);
    process.exit(1);
  });
}
