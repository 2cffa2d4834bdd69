#!/usr/bin/env node
// TF.js images/s on the model and photos mediadex is benchmarked on, for comparison.
//
//   node bench/tfjs/bench.mjs --model models/centernet.json --photos DIR [--seconds 20]
//                             [--backend wasm|cpu]
//
// (a) model-only: pre-resized 512x512 inputs, execute + read back tower_0/detections.
// (b) end-to-end: read file, decode (jpeg-js / pngjs), cast, resizeBilinear, execute, read
//     back, NMS — human's centernet.ts pipeline — cycling over every photo in DIR.
// Prints one JSON line: {backend, simd, threads, model_only_ips, end_to_end_ips, images, seconds}.

import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { loadLocalGraphModel } from './centernet.mjs';

const kInputSize = 512;
const kOutputNode = 'tower_0/detections';

function parseArgs(argv) {
  const args = { model: null, photos: null, seconds: 20, backend: 'wasm' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--model') args.model = next();
    else if (a === '--photos') args.photos = next();
    else if (a === '--seconds') args.seconds = Number(next());
    else if (a === '--backend') args.backend = next();
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.model || !args.photos) throw new Error('usage: bench.mjs --model M.json --photos DIR [--seconds 20] [--backend wasm|cpu]');
  if (!(args.seconds > 0)) throw new Error('--seconds must be a positive number');
  if (args.backend !== 'wasm' && args.backend !== 'cpu') throw new Error(`--backend ${args.backend}: expected wasm or cpu`);
  return args;
}


// Decodes JPEG/PNG to an int32 [1,h,w,3] tensor (alpha dropped, gray expanded).
function decodeToTensor(file) {
  const buf = fs.readFileSync(file);
  let img;
  if (buf[0] === 0xff && buf[1] === 0xd8) {
    // jpeg-js's default 512 MB budget rejects 4000x3000 photos; raise it.
    img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 4096 });
    // formatAsRGBA:false gives RGB for colour JPEGs, but a grayscale JPEG stays 1 channel.
    const channels = img.data.length / (img.width * img.height);
    if (channels === 3) return tf.tensor4d(img.data, [1, img.height, img.width, 3], 'int32');
    img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 4096 });
  } else if (buf.readUInt32BE(0) === 0x89504e47) {
    img = PNG.sync.read(buf);
  } else {
    throw new Error(`${file}: not a JPEG or PNG file`);
  }
  const n = img.width * img.height;
  const rgb = new Int32Array(n * 3);
  for (let i = 0, j = 0; i < n * 4; i += 4, j += 3) {
    rgb[j] = img.data[i];
    rgb[j + 1] = img.data[i + 1];
    rgb[j + 2] = img.data[i + 2];
  }
  return tf.tensor4d(rgb, [1, img.height, img.width, 3], 'int32');
}

function preprocess(pixels) {
  return tf.tidy(() => tf.image.resizeBilinear(tf.cast(pixels, 'float32'), [kInputSize, kInputSize]));
}

// human's centernet.ts process(): read back, NMS on [y1,x1,y2,x2], keep the survivors.
async function detect(model, input) {
  const out = model.execute(input, kOutputNode);
  const raw = (await out.array())[0];
  const boxes = tf.tensor2d(raw.map((d) => [d[1], d[0], d[3], d[2]]));
  const scores = tf.tensor1d(raw.map((d) => d[4]));
  const nmsT = await tf.image.nonMaxSuppressionAsync(boxes, scores, 10, 0.4, 0.2);
  const keep = await nmsT.data();
  tf.dispose([out, boxes, scores, nmsT]);
  return Array.from(keep, (id) => raw[id]);
}

async function timeLoop(seconds, step) {
  let count = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    await step(count);
    count++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return count / elapsed;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(args.model)) throw new Error(`${args.model}: model not found`);
  const photos = fs.readdirSync(args.photos).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort()
    .map((f) => path.join(args.photos, f));
  if (photos.length === 0) throw new Error(`${args.photos}: no JPEG or PNG photos`);

  if (!(await tf.setBackend(args.backend))) throw new Error(`backend ${args.backend} failed to start`);
  await tf.ready();
  const simd = args.backend === 'wasm' ? await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') : false;
  const threads = args.backend === 'wasm' ? wasm.getThreadsCount() : 1;
  const model = await loadLocalGraphModel(tf, args.model);

  // Model-only inputs: every photo pre-resized once, outside the timed loop.
  const inputs = photos.map((file) => tf.tidy(() => preprocess(decodeToTensor(file))));
  for (let i = 0; i < 2; i++) await detect(model, inputs[i % inputs.length]);  // warm-up
  const modelOnly = await timeLoop(args.seconds, (i) => detect(model, inputs[i % inputs.length]));
  tf.dispose(inputs);

  const endToEnd = await timeLoop(args.seconds, async (i) => {
    const input = tf.tidy(() => preprocess(decodeToTensor(photos[i % photos.length])));
    await detect(model, input);
    tf.dispose(input);
  });

  console.log(JSON.stringify({
    backend: tf.getBackend(),
    simd,
    threads,
    model_only_ips: Number(modelOnly.toFixed(3)),
    end_to_end_ips: Number(endToEnd.toFixed(3)),
    images: photos.length,
    seconds: args.seconds,
    tfjs_version: tf.version.tfjs,
  }));
}

main().catch((err) => {
  console.error(`bench.mjs: ${err.message}`);
  process.exit(1);
});
