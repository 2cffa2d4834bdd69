// Shared by the Node benchmarks (bench/tfjs/bench.mjs, bench/node-pipeline/index.mjs): load a
// TF.js graph model from local files. `tf` is passed in, so each package uses its own copy.
import fs from 'node:fs';
import path from 'node:path';

export async function loadLocalGraphModel(tf, modelJson) {
  const json = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  const dir = path.dirname(modelJson);
  const weightSpecs = [];
  const shards = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) shards.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(shards);
  return tf.loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
      signature: json.signature,
      weightSpecs,
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    }),
  });
}
