#!/usr/bin/env node
// Runs exported ONNX models in onnxruntime (onnxruntime-node) for the ONNX export tests.
//   node ort_run.js job.json   ->  one JSON object on stdout
// job.json: {"ort_dir": folder holding node_modules/onnxruntime-node, "threads": n,
//            "cases": [case...]}, where a case is
//  {"kind": "compare", "name", "model", "input": raw float32 file, "shape": [N, C, H, W],
//   "expected": raw float32 logits (N x classes), "batch"}
//     -> max |onnx - expected|, largest |expected|, argmax agreement, and the images whose
//        logits all lie within "tolerance" (default 1e-3) times max(1, their largest |logit|)
//  {"kind": "dataset", "name", "model", "images": idx3 file (.gz or not), "labels": idx1 file,
//   "indices": raw int64 file of image indices, "batch"}
//     -> Top-1, the images prepared as a deployer would: from the model's metadata alone
//        (normalization.mean/std), pixel / 255, then (value - mean) / std.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const {onnxMetadata} = require(path.join(__dirname, '..', '..', 'scripts', 'onnx_metadata.js'));

function readFloats(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

function readIdx(file) {
  let b = fs.readFileSync(file);
  if (file.endsWith('.gz')) b = zlib.gunzipSync(b);
  const dims = b[3];
  const shape = [];
  for (let i = 0; i < dims; ++i) shape.push(b.readUInt32BE(4 + 4 * i));
  return {shape, data: b.subarray(4 + 4 * dims)};
}

async function session(ort, model, threads) {
  return ort.InferenceSession.create(model, {
    graphOptimizationLevel: process.env.CTMQ_ORT_OPTIMIZATION || 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
}

// Logits of n images of `per` floats each, `batch` at a time.
async function logits(ort, sess, data, n, chw, batch) {
  const per = chw[0] * chw[1] * chw[2];
  const out = [];
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    const x = new ort.Tensor('float32', data.subarray(start * per, (start + count) * per),
                             [count, ...chw]);
    const result = await sess.run({image: x});
    out.push(result.logits.data);
  }
  const classes = out[0].length / Math.min(batch, n);
  const all = new Float32Array(n * classes);
  let offset = 0;
  for (const part of out) {
    all.set(part, offset);
    offset += part.length;
  }
  return {all, classes};
}

function argmax(a, i, k) {
  let best = 0;
  for (let j = 1; j < k; ++j) {
    if (a[i * k + j] > a[i * k + best]) best = j;
  }
  return best;
}

async function compare(ort, c, threads) {
  const sess = await session(ort, c.model, threads);
  const [n, ...chw] = c.shape;
  const {all, classes} = await logits(ort, sess, readFloats(c.input), n, chw, c.batch || 64);
  const expected = readFloats(c.expected);
  if (expected.length !== all.length) throw new Error(c.name + ': logits count mismatch');
  // Per image: the largest |difference| of its logits, against `tolerance` times its largest
  // |logit| (at least 1).
  const tolerance = c.tolerance || 1e-3;
  let maxDiff = 0;
  let maxAbs = 0;
  let agree = 0;
  let within = 0;
  const worst = [];
  for (let i = 0; i < n; ++i) {
    let diff = 0;
    let scale = 1;
    for (let j = 0; j < classes; ++j) {
      diff = Math.max(diff, Math.abs(all[i * classes + j] - expected[i * classes + j]));
      scale = Math.max(scale, Math.abs(expected[i * classes + j]));
    }
    maxDiff = Math.max(maxDiff, diff);
    maxAbs = Math.max(maxAbs, scale);
    if (diff <= tolerance * scale) ++within;
    worst.push([diff, i]);
    if (argmax(all, i, classes) === argmax(expected, i, classes)) ++agree;
  }
  worst.sort((a, b) => b[0] - a[0]);
  return {name: c.name, images: n, classes, tolerance, max_abs_diff: maxDiff,
          max_abs_logit: maxAbs, images_within_tolerance: within, argmax_agree: agree,
          worst_images: worst.slice(0, 5)};
}

async function dataset(ort, c, threads) {
  const meta = onnxMetadata(c.model);
  const mean = JSON.parse(meta['normalization.mean']);
  const std = JSON.parse(meta['normalization.std']);
  const images = readIdx(c.images);
  const labels = readIdx(c.labels).data;
  const [, h, w] = images.shape;
  const b = fs.readFileSync(c.indices);
  const indices = new BigInt64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  const n = indices.length;
  const channels = mean.length;
  const x = new Float32Array(n * channels * h * w);
  for (let i = 0; i < n; ++i) {
    const src = Number(indices[i]) * h * w;
    for (let ch = 0; ch < channels; ++ch) {
      for (let p = 0; p < h * w; ++p) {
        x[(i * channels + ch) * h * w + p] = (images.data[src + p] / 255 - mean[ch]) / std[ch];
      }
    }
  }
  const sess = await session(ort, c.model, threads);
  const {all, classes} = await logits(ort, sess, x, n, [channels, h, w], c.batch || 100);
  let correct = 0;
  for (let i = 0; i < n; ++i) {
    if (argmax(all, i, classes) === labels[Number(indices[i])]) ++correct;
  }
  return {name: c.name, images: n, top1: correct / n, metadata: meta};
}

async function main() {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const ort = require(path.join(job.ort_dir, 'node_modules', 'onnxruntime-node'));
  const results = [];
  for (const c of job.cases) {
    results.push(c.kind === 'dataset' ? await dataset(ort, c, job.threads || 1)
                                      : await compare(ort, c, job.threads || 1));
  }
  process.stdout.write(JSON.stringify({results}) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
