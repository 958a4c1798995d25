// The wasm heap never shrinks, so a leak per session or per frame would show as memory growth,
// but only after megabytes; the allocator's own in-use count (`_heapInUse`) sees single bytes.
// Thousands of sessions and frames (good and bad) go through one module instance; after a
// warm-up, neither the in-use bytes nor the memory size may move.
import { expect, test } from 'vitest';

import { WasmSession } from '../src/session.js';
import { freshModule } from './helpers/wasm.js';

// Over the 64 KiB frame bound; fed every BIG_EVERY sessions only (it is slow to scan).
const BIG_FRAME = `{"type":"progress","process_id":"job-1","message":"${'x'.repeat(70_000)}"}`;
const BIG_EVERY = 50;

const BAD_FRAMES = [
  '{',
  '',
  'null',
  '[]',
  '{"type":42}',
  '{"type":"nope"}',
  '{"type":"snapshot","process_id":7}',
  '{"type":"progress","process_id":"job-1","seq":"x"}',
  '\u0000\u0001binary-ish',
];

function snapshot(id, seq, percent) {
  return JSON.stringify({
    type: 'snapshot',
    process_id: id,
    epoch: 'abcd0123',
    seq,
    state: 'running',
    stage: 'analysis',
    percent,
    message: 'working',
    data: { pages: 3 },
    updated_at: 1000 + seq,
    stages: [
      { name: 'upload_received', started_at: 1000, ended_at: 1001 },
      { name: 'analysis', started_at: 1001 },
    ],
  });
}

function progress(id, seq, percent, state = 'running') {
  return JSON.stringify({
    type: 'progress',
    process_id: id,
    epoch: 'abcd0123',
    seq,
    state,
    stage: 'analysis',
    percent,
    message: `step ${seq}`,
    data: { seq },
    ts: 2000 + seq,
  });
}

// One session's life: connect, hello, snapshot, events, junk, a drop and a resume, completion.
function oneSession(module, round) {
  const session = new WasmSession(module, { url: 'ws://hub.test', seed: round });
  let now = 1_000_000 + round * 100_000;
  const generation = () => {
    const { actions } = session.poll();
    const connect = actions.find((a) => a.connect);
    return connect ? connect.connect.generation : null;
  };
  try {
    session.start(now);
    const ids = [`job-${round}-a`, `job-${round}-b`];
    for (const id of ids) session.subscribe(id, now);
    let gen = generation();
    expect(gen, 'the session connects once something is watched').not.toBeNull();
    session.onOpen(gen, (now += 5));
    session.onText(
      gen,
      JSON.stringify({ type: 'hello', protocol: 1, heartbeat_ms: 20000, server: 'test' }),
      (now += 1),
    );
    for (const id of ids) session.onText(gen, snapshot(id, 1, 10), (now += 1));
    for (let seq = 2; seq < 12; seq += 1) session.onText(gen, progress(ids[0], seq, 10 + seq), (now += 10));
    for (const bad of BAD_FRAMES) session.onText(gen, bad, (now += 1));
    if (round % BIG_EVERY === 0) session.onText(gen, BIG_FRAME, (now += 1));
    session.poll();
    session.onClose(gen, 1006, '', (now += 1));
    session.onTimer((now += 30_000));
    gen = generation() ?? gen;
    session.onOpen(gen, (now += 5));
    session.onText(
      gen,
      JSON.stringify({ type: 'hello', protocol: 1, heartbeat_ms: 20000, server: 'test' }),
      (now += 1),
    );
    for (const id of ids) session.onText(gen, progress(id, 12, 100, 'completed'), (now += 1));
    session.poll();
    for (const id of ids) session.view(id);
  } finally {
    session.delete();
  }
}

test('thousands of sessions and frames leave the wasm heap where the warm-up put it', async () => {
  const module = await freshModule();
  const memoryBytes = () => module.HEAPU8.buffer.byteLength;
  for (let round = 0; round < 100; round += 1) oneSession(module, round);
  const inUse = module._heapInUse();
  const memory = memoryBytes();
  for (let round = 100; round < 1100; round += 1) oneSession(module, round);
  expect(module._heapInUse()).toBe(inUse);
  expect(memoryBytes()).toBe(memory);
}, 120_000);

test('a long-lived session digesting many frames does not grow the heap', async () => {
  const module = await freshModule();
  const session = new WasmSession(module, { url: 'ws://hub.test', seed: 1 });
  let now = 5_000_000;
  session.start(now);
  session.subscribe('long-job', now);
  const gen = session.poll().actions.find((a) => a.connect).connect.generation;
  session.onOpen(gen, (now += 1));
  session.onText(
    gen,
    JSON.stringify({ type: 'hello', protocol: 1, heartbeat_ms: 20000, server: 'test' }),
    (now += 1),
  );
  session.onText(gen, snapshot('long-job', 1, 0), (now += 1));
  let seq = 2;
  const feed = (count) => {
    for (let i = 0; i < count; i += 1, seq += 1) {
      session.onText(gen, progress('long-job', seq, Math.min(99, seq / 1000)), (now += 3));
      if (i % 50 === 0) session.onText(gen, BAD_FRAMES[i % BAD_FRAMES.length], now);
      if (i % 100 === 0) session.poll();
    }
    session.poll();
  };
  feed(2_000);
  const inUse = module._heapInUse();
  const memory = module.HEAPU8.buffer.byteLength;
  feed(20_000);
  // Only string capacities (message "step N" grows a digit) may differ: far below one byte a frame.
  expect(module._heapInUse() - inUse).toBeLessThan(1024);
  expect(module.HEAPU8.buffer.byteLength).toBe(memory);
  expect(session.view('long-job').seq).toBe(seq - 1);
  session.delete();
}, 120_000);
