#!/usr/bin/env node
// Serves one .onnx model in ONNX Runtime (onnxruntime-node, CPU execution provider, MLAS kernels)
// to a parent process over pipes, so that many inputs run in one process: qseg diff --b
// onnxruntime uses it through tools/qseg/onnxruntime_peer.h. The protocol is that of
// tools/oracle/tflite_batch.js.
//
//   node ort_batch.js ORT_DIR MODEL.onnx [--threads N]
//
// ORT_DIR is where tools/onnx/setup.sh installed onnxruntime-node (ORT_DIR/node_modules). The
// session: graph optimization level "all" (ORT fuses the QDQ groups into its integer kernels),
// sequential execution, N intra-op threads (default 1), one inter-op thread.
//
// Protocol (all integers little-endian; only this protocol is written to stdout):
//   start:    stdout gets one JSON line {"inputs":[{name,dtype,shape}],"outputs":[{name,...}]}.
//   request:  stdin gets a uint32 byte count N and N bytes, the exact bytes of input 0;
//             N == 0 ends the process (exit 0).
//   reply:    stdout gets, for each output in order, a uint32 byte count and the bytes.
//   errors:   one line on stderr and exit status 1.
'use strict';
const fs = require('fs'), path = require('path');

function fail(message) {
  process.stderr.write('ort_batch: ' + message + '\n');
  process.exit(1);
}

// Blocking reads and writes on the pipes: a busy pipe (EAGAIN) is retried after a short sleep.
const pause = new Int32Array(new SharedArrayBuffer(4));
function readExactly(n) {
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    let k;
    try { k = fs.readSync(0, buf, got, n - got, null); } catch (e) {
      if (e.code === 'EAGAIN') { Atomics.wait(pause, 0, 0, 1); continue; }
      if (e.code === 'EOF') k = 0; else throw e;
    }
    if (k === 0) return got === 0 ? null : fail(`input ended after ${got} of ${n} bytes`);
    got += k;
  }
  return buf;
}
function writeAll(buf) {
  let done = 0;
  while (done < buf.length) {
    try { done += fs.writeSync(1, buf, done, buf.length - done); } catch (e) {
      if (e.code === 'EAGAIN') { Atomics.wait(pause, 0, 0, 1); continue; }
      throw e;
    }
  }
}

// The typed array of an ONNX Runtime tensor type over the request's bytes.
const arrays = {
  uint8: Uint8Array, int8: Int8Array, int32: Int32Array, int64: BigInt64Array,
  float32: Float32Array, bool: Uint8Array,
};

// Loads onnxruntime-node from ORT_DIR; shared by ort_bench.js.
function loadOrt(ortDir) {
  const module = path.join(path.resolve(ortDir), 'node_modules', 'onnxruntime-node');
  if (!fs.existsSync(module)) fail(`no ONNX Runtime in ${ortDir} (install it: tools/onnx/setup.sh ${ortDir})`);
  return require(module);
}

async function createSession(ort, modelPath, threads) {
  if (!fs.existsSync(modelPath)) fail(`cannot read ${modelPath}`);
  try {
    return await ort.InferenceSession.create(modelPath, {
      executionProviders: ['cpu'], graphOptimizationLevel: 'all', executionMode: 'sequential',
      intraOpNumThreads: threads, interOpNumThreads: 1, logSeverityLevel: 3,
    });
  } catch (e) {
    fail(`ONNX Runtime refused ${modelPath}: ${String(e && e.message || e).split('\n')[0]}`);
  }
}

// The session's input 0 as a tensor over `bytes` (which must have its size).
function inputTensor(ort, session, bytes) {
  const meta = session.inputMetadata[0];
  const Type = arrays[meta.type];
  if (!Type) fail(`input '${meta.name}' is ${meta.type}, which this runner does not feed`);
  const count = meta.shape.reduce((a, b) => a * Number(b), 1);
  if (bytes.length !== count * Type.BYTES_PER_ELEMENT) fail(`request of ${bytes.length} bytes, the model input needs ${count * Type.BYTES_PER_ELEMENT}`);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new ort.Tensor(meta.type, new Type(copy.buffer), meta.shape.map(Number));
}

async function main() {
  const args = process.argv.slice(2);
  let threads = 1;
  const t = args.indexOf('--threads');
  if (t >= 0) { threads = parseInt(args[t + 1], 10); args.splice(t, 2); }
  if (args.length !== 2 || !(threads >= 1)) fail('usage: ort_batch.js ORT_DIR MODEL.onnx [--threads N]');
  const [ortDir, modelPath] = args;
  const ort = loadOrt(ortDir);
  const session = await createSession(ort, modelPath, threads);
  if (session.inputNames.length !== 1) fail(`${modelPath} has ${session.inputNames.length} inputs; this runner feeds models with one`);
  const describe = (m) => ({ name: m.name, dtype: m.type, shape: (m.shape || []).map(Number) });
  writeAll(Buffer.from(JSON.stringify({
    inputs: session.inputMetadata.map(describe), outputs: session.outputMetadata.map(describe),
  }) + '\n'));
  for (;;) {
    const header = readExactly(4);
    if (header === null) break;
    const n = header.readUInt32LE(0);
    if (n === 0) break;
    const input = readExactly(n);
    if (input === null) fail('input ended inside a request');
    const results = await session.run({ [session.inputNames[0]]: inputTensor(ort, session, input) });
    for (const name of session.outputNames) {
      const d = results[name].data;
      const bytes = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
      const size = Buffer.alloc(4);
      size.writeUInt32LE(bytes.length, 0);
      writeAll(size);
      writeAll(bytes);
    }
  }
}

if (require.main === module) {
  main().then(() => process.exit(0), (e) => fail(String(e && e.message || e)));
}
module.exports = { loadOrt, createSession, inputTensor, fail };
