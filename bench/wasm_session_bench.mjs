// Size of the browser module and the client session's cost per received frame under Node.
// Usage: node bench/wasm_session_bench.mjs [frames] [--dir web/dist]
// Loads progress_wasm the way web/test does (factory + wasmBinary) and drives it through the web
// package's own session wrapper (web/src/session.js): on_text then poll for every frame, so the
// time includes both crossings, the UTF-8 copies and the JSON the session hands back.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

import { WasmSession } from '../web/src/session.js';

const args = process.argv.slice(2);
const dirAt = args.indexOf('--dir');
const dir = dirAt >= 0 ? args[dirAt + 1] : join(dirname(fileURLToPath(import.meta.url)), '..', 'web', 'dist');
const frames = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--dir') ?? 50_000);
const warmup = Math.min(5_000, frames);

const jsPath = join(dir, 'progress_wasm.js');
const wasmPath = join(dir, 'progress_wasm.wasm');
const jsBytes = readFileSync(jsPath);
const wasmBytes = readFileSync(wasmPath);
const sizes = {
  wasm: wasmBytes.length,
  wasm_gzip: gzipSync(wasmBytes, { level: 9 }).length,
  js: jsBytes.length,
  js_gzip: gzipSync(jsBytes, { level: 9 }).length,
};

const factory = (await import(pathToFileURL(jsPath).href)).default;
const loadStart = performance.now();
const module = await factory({ wasmBinary: wasmBytes });
const loadMs = performance.now() - loadStart;

const id = 'bench-1';
const session = new WasmSession(module, { url: 'ws://127.0.0.1:1/ws/progress', seed: 1 });
let now = 1_700_000_000_000;
session.start(now);
session.subscribe(id, now);
const connect = session.poll().actions.find((a) => a.connect);
if (!connect) throw new Error('the session asked for no connection');
const gen = connect.connect.generation;
session.onOpen(gen, now);
session.poll();
const hello = { type: 'hello', protocol: 1, heartbeat_ms: 20000, server: 'bench' };
session.onText(gen, JSON.stringify(hello), now);
session.onText(gen, JSON.stringify({
  type: 'snapshot', process_id: id, epoch: '0badf00d', seq: 0, state: 'running', stage: 'analysis',
  percent: 0,
  updated_at: now, stages: [{ name: 'analysis', started_at: now }],
}), now);
session.poll();

let seq = 0;
function frame() {
  seq += 1;
  now += 10;
  const percent = Math.round((seq / (frames + warmup + 1)) * 9900) / 100; // rising, below 100
  return `{"type":"progress","process_id":"${id}","epoch":"0badf00d","seq":${seq},"state":"running",` +
    `"stage":"analysis","percent":${percent},"message":"page ${seq}","data":{"pages":${seq}},"ts":${now}}`;
}

let events = 0;
let onTextMs = 0;
function step(text) {
  const a = performance.now();
  session.onText(gen, text, now);
  onTextMs += performance.now() - a;
  events += session.poll().events.length;
}

for (let i = 0; i < warmup; i++) step(frame());
const texts = Array.from({ length: frames }, frame); // built up front: the loop times the session only
events = 0;
onTextMs = 0;
const t0 = performance.now();
for (const text of texts) step(text);
const elapsedMs = performance.now() - t0;
if (events < frames) throw new Error(`only ${events} events for ${frames} frames: frames were dropped`);
const view = session.view(id);
if (view.seq !== seq) throw new Error(`view at seq ${view.seq}, expected ${seq}`);
session.delete();

const result = {
  ...sizes,
  instantiate_ms: Number(loadMs.toFixed(1)),
  frames,
  us_per_frame: Number(((elapsedMs * 1000) / frames).toFixed(3)),
  on_text_us_per_frame: Number(((onTextMs * 1000) / frames).toFixed(3)),
  frames_per_s: Math.round(frames / (elapsedMs / 1000)),
  node: process.version,
};
console.log(
  `wasm ${sizes.wasm} B (${sizes.wasm_gzip} gzip)  js ${sizes.js} B (${sizes.js_gzip} gzip)  ` +
    `instantiate ${result.instantiate_ms} ms  ${result.us_per_frame} us/frame (on_text + poll; ` +
    `on_text alone ${result.on_text_us_per_frame})`,
);
console.log(JSON.stringify(result));
