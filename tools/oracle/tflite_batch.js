#!/usr/bin/env node
// Serves one .tflite model in the real TensorFlow Lite (the WebAssembly build with its default
// XNNPACK delegate that ../shared/tools/tflite-oracle installs) to a parent process over pipes, so
// that many inputs run in one process: qseg diff and scripts/conformance.sh use it through
// tools/qseg/oracle.h.
//
//   node tflite_batch.js ORACLE_DIR MODEL.tflite [--threads N]
//
// ORACLE_DIR is where the oracle's setup.sh installed it (it holds node_modules/@tensorflow/...).
// The model is run as it is: a parent that wants intermediate tensors or an int32 ArgMax writes a
// copy of the model with those outputs itself.
//
// Protocol (all integers little-endian; only this protocol is written to stdout):
//   start:    stdout gets one JSON line {"inputs":[{name,dtype,shape,bytes}],"outputs":[...]}.
//   request:  stdin gets a uint32 byte count N and N bytes, the exact bytes of input 0;
//             N == 0 ends the process (exit 0).
//   reply:    stdout gets, for each output in order, a uint32 byte count and the bytes.
//   errors:   one line on stderr and exit status 1.
'use strict';
const fs = require('fs'), path = require('path'), vm = require('vm');

function fail(message) {
  process.stderr.write('tflite_batch: ' + message + '\n');
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

async function main() {
  const args = process.argv.slice(2);
  let threads = 1;
  const t = args.indexOf('--threads');
  if (t >= 0) { threads = parseInt(args[t + 1], 10); args.splice(t, 2); }
  if (args.length !== 2 || !(threads >= 1)) fail('usage: tflite_batch.js ORACLE_DIR MODEL.tflite [--threads N]');
  const [oracleDir, modelPath] = args;
  const wasmDir = path.join(oracleDir, 'node_modules/@tensorflow/tfjs-tflite/wasm/');
  const variant = 'tflite_web_api_cc_simd' + (threads > 1 ? '_threaded' : '');
  const jsPath = wasmDir + variant + '.js';
  if (!fs.existsSync(jsPath)) fail(`no TFLite WebAssembly build at ${jsPath} (install the oracle: ../shared/tools/tflite-oracle/setup.sh ${oracleDir})`);
  if (threads > 1) fail('--threads above 1 is not supported by this runner');
  // Nothing but the protocol may reach stdout: the module's prints go to stderr.
  console.log = (...a) => process.stderr.write(a.join(' ') + '\n');
  const factory = vm.runInThisContext(fs.readFileSync(jsPath, 'utf8') + '\ntflite_web_api_ModuleFactory;', { filename: jsPath });
  const M = await factory({
    wasmBinary: fs.readFileSync(wasmDir + variant + '.wasm'),
    locateFile: (f) => wasmDir + f,
    print: (s) => process.stderr.write(s + '\n'),
    printErr: (s) => process.stderr.write(s + '\n'),
  });
  let model;
  try { model = fs.readFileSync(modelPath); } catch (e) { fail(`cannot read ${modelPath}: ${e.message}`); }
  const ptr = M._malloc(model.length);
  M.HEAPU8.set(model, ptr);
  const created = M.TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr, model.length, { numThreads: threads, enableProfiling: false, maxProfilingBufferEntries: 0 });
  if (!created.ok()) fail(`TFLite refused ${modelPath}: ${created.errorMessage()}`);
  const runner = created.value();
  const list = (v) => { const r = []; for (let i = 0; i < v.size(); i++) r.push(v.get(i)); v.delete(); return r; };
  const inputs = list(runner.GetInputs()), outputs = list(runner.GetOutputs());
  if (inputs.length !== 1) fail(`${modelPath} has ${inputs.length} inputs; this runner feeds models with one`);
  const view = (tensor, what) => {
    const d = tensor.data();
    if (!d || typeof d !== 'object') fail(`${what} '${tensor.name}' (${tensor.dataType}) cannot be read through the WebAssembly API (int64 tensors cannot)`);
    return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  };
  const describe = (tensor, what) => ({ name: tensor.name, dtype: tensor.dataType, shape: tensor.shape.split(',').filter(s => s !== '').map(Number), bytes: view(tensor, what).length });
  writeAll(Buffer.from(JSON.stringify({ inputs: inputs.map(x => describe(x, 'input')), outputs: outputs.map(x => describe(x, 'output')) }) + '\n'));
  for (;;) {
    const header = readExactly(4);
    if (header === null) break;
    const n = header.readUInt32LE(0);
    if (n === 0) break;
    const input = readExactly(n);
    if (input === null) fail('input ended inside a request');
    const destination = view(inputs[0], 'input');
    if (destination.length !== n) fail(`request of ${n} bytes, the model input needs ${destination.length}`);
    destination.set(input);
    if (!runner.Infer()) fail('TFLite Infer() failed');
    for (const o of outputs) {
      const bytes = view(o, 'output');
      const size = Buffer.alloc(4);
      size.writeUInt32LE(bytes.length, 0);
      writeAll(size);
      writeAll(bytes);
    }
  }
  runner.delete();
  M._free(ptr);
}
main().then(() => process.exit(0), (e) => fail(String(e && e.message || e)));
