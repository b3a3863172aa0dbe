#!/usr/bin/env node
// Times one .onnx model in ONNX Runtime (the session of ort_batch.js: CPU provider, graph
// optimization level "all", sequential execution, N intra-op threads): bench/compare.sh's ONNX
// Runtime rows. Input: a fixed pseudo-random input of the model's type and shape (uint8 bytes or
// floats in [-1, 1]), or --input RAW's exact bytes; the time of each session.run, input tensor
// to the output labels.
//
//   node ort_bench.js ORT_DIR MODEL.onnx [--threads N] [--runs K] [--warmup W] [--input RAW]
//                     [--json OUT.json]
//
// Prints one line; --json writes {median_ms, min_ms, max_ms, runs_ms, threads, runs, warmup,
// onnxruntime}.
'use strict';
const fs = require('fs');
const { loadOrt, createSession, inputTensor, fail } = require('./ort_batch.js');

function option(args, name, fallback) {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = args[i + 1];
  args.splice(i, 2);
  if (value === undefined) fail(`${name} needs a value`);
  return value;
}

function whole(value, name, min) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`${name} must be a whole number >= ${min}, got '${value}'`);
  return n;
}

// A deterministic input (xorshift32), the same bytes every run.
function pseudoRandom(meta) {
  const count = meta.shape.reduce((a, b) => a * Number(b), 1);
  let s = 2463534242;
  const next = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  if (meta.type === 'float32') {
    const f = new Float32Array(count);
    for (let i = 0; i < count; ++i) f[i] = (next() / 4294967296) * 2 - 1;
    return Buffer.from(f.buffer);
  }
  const b = Buffer.alloc(count * (meta.type === 'uint8' || meta.type === 'int8' ? 1 : 0));
  if (b.length === 0) fail(`input '${meta.name}' is ${meta.type}: give --input RAW`);
  for (let i = 0; i < b.length; ++i) b[i] = next() & 0xFF;
  return b;
}

async function main() {
  const args = process.argv.slice(2);
  const threads = whole(option(args, '--threads', '1'), '--threads', 1);
  const runs = whole(option(args, '--runs', '5'), '--runs', 1);
  const warmup = whole(option(args, '--warmup', '1'), '--warmup', 0);
  const raw = option(args, '--input', '');
  const json = option(args, '--json', '');
  if (args.length !== 2) fail('usage: ort_bench.js ORT_DIR MODEL.onnx [--threads N] [--runs K] [--warmup W] [--input RAW] [--json OUT.json]');
  const [ortDir, modelPath] = args;
  const ort = loadOrt(ortDir);
  const session = await createSession(ort, modelPath, threads);
  let bytes;
  try { bytes = raw ? fs.readFileSync(raw) : pseudoRandom(session.inputMetadata[0]); } catch (e) { fail(`cannot read ${raw}: ${e.message}`); }
  const feeds = { [session.inputNames[0]]: inputTensor(ort, session, bytes) };
  const times = [];
  for (let r = 0; r < warmup + runs; ++r) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r >= warmup) times.push(ms);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const version = ort.env.versions && ort.env.versions.node;
  console.log(`ONNX Runtime ${version} (CPU, MLAS), ${threads} thread${threads > 1 ? 's' : ''}, ${runs} runs after ${warmup} warm-up: median ${median.toFixed(2)} ms, min ${sorted[0].toFixed(2)}, max ${sorted[sorted.length - 1].toFixed(2)}`);
  if (json) {
    fs.writeFileSync(json, JSON.stringify({
      median_ms: median, min_ms: sorted[0], max_ms: sorted[sorted.length - 1], runs_ms: times,
      threads, runs, warmup, onnxruntime: version,
    }, null, 2) + '\n');
  }
}

main().then(() => process.exit(0), (e) => fail(String(e && e.message || e)));
