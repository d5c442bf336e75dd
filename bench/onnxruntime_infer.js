#!/usr/bin/env node
// Inference throughput of an ONNX model in onnxruntime (CPU, its Node.js binding), with the
// settings a deployer would pick for speed: all graph optimizations, sequential execution,
// `--threads` intra-op threads, one reused input batch. Prints one JSON line.
//   node bench/onnxruntime_infer.js --model M.onnx [--batch 64] [--threads 1] [--size 28]
//        [--channels C] [--warmup 3] [--seconds 5] [--ort-dir build/onnxruntime-node]
// onnxruntime-node comes from scripts/install_onnxruntime_node.sh (the tests' build-local copy
// by default); the input is random normal data of the model's input shape (--size x --size).
'use strict';
const path = require('path');
const {performance} = require('perf_hooks');

function flags(argv) {
  const out = {batch: 64, threads: 1, size: 28, channels: 0, warmup: 3, seconds: 5,
               'ort-dir': process.env.CTMQ_ONNXRUNTIME_NODE_DIR ||
                          path.join(__dirname, '..', 'build', 'onnxruntime-node')};
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in out) && key !== 'model') throw new Error('unknown flag ' + argv[i]);
    out[key] = key === 'model' || key === 'ort-dir' ? argv[i + 1] : Number(argv[i + 1]);
  }
  if (!out.model) throw new Error('--model is required');
  return out;
}

function gaussian(n) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.random() || 1e-12;
    const v = Math.random();
    const r = Math.sqrt(-2 * Math.log(u));
    a[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) a[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return a;
}

async function main() {
  const f = flags(process.argv);
  const ortDir = path.resolve(f['ort-dir']);
  const ort = require(path.join(ortDir, 'node_modules', 'onnxruntime-node'));
  const session = await ort.InferenceSession.create(f.model, {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: f.threads,
    interOpNumThreads: 1,
  });
  const input = session.inputNames[0];
  let channels = f.channels;
  if (!channels) {
    const meta = session.inputMetadata && session.inputMetadata[0];
    channels = meta && Array.isArray(meta.shape) && typeof meta.shape[1] === 'number' ?
        meta.shape[1] : 1;
  }
  const dims = [f.batch, channels, f.size, f.size];
  const x = new ort.Tensor('float32', gaussian(dims.reduce((a, b) => a * b, 1)), dims);
  for (let i = 0; i < f.warmup; ++i) await session.run({[input]: x});
  let runs = 0;
  const start = performance.now();
  let elapsed = 0;
  const times = [];
  while (elapsed < f.seconds * 1000 || runs < 3) {
    const t0 = performance.now();
    await session.run({[input]: x});
    times.push(performance.now() - t0);
    ++runs;
    elapsed = performance.now() - start;
  }
  times.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({
    runtime: 'onnxruntime-node',
    ort_version: require(path.join(ortDir, 'node_modules', 'onnxruntime-node',
                                   'package.json')).version,
    model: f.model,
    batch: f.batch,
    threads: f.threads,
    input: dims,
    runs,
    images_per_s: runs * f.batch / (elapsed / 1000),
    median_batch_ms: times[Math.floor(times.length / 2)],
  }) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.message ? e.message : e) + '\n');
  process.exit(1);
});
