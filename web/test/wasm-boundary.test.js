// The raw layer between web/src/session.js and the module's C exports: text crossing both ways as
// UTF-8 (non-ASCII, NUL bytes, a frame big enough to grow the heap), C++ failures turned into
// ProgressWasmError, a deleted session refused before its freed handle reaches the module, and the
// module-level codec helpers.
import { expect, test } from 'vitest';

import { ProgressWasmError, WasmSession, decodeServerFrame, isValidProcessId } from '../src/session.js';
import { freshModule, sharedModule } from './helpers/wasm.js';

const HELLO = JSON.stringify({ type: 'hello', protocol: 1, heartbeat_ms: 20000, server: 'test' });

function connected(module, id) {
  const session = new WasmSession(module, { url: 'ws://hub.test', seed: 7 });
  let now = 1_000;
  session.start(now);
  session.subscribe(id, now);
  const gen = session.poll().actions.find((a) => a.connect).connect.generation;
  session.onOpen(gen, (now += 1));
  session.onText(gen, HELLO, (now += 1));
  session.poll();
  return { session, gen, now };
}

function snapshot(id, fields) {
  return JSON.stringify({
    type: 'snapshot',
    process_id: id,
    epoch: 'abcd0123',
    seq: 1,
    state: 'running',
    stage: 'analysis',
    percent: 10,
    data: {},
    updated_at: 1000,
    stages: [{ name: 'analysis', started_at: 1000 }],
    ...fields,
  });
}

test('non-ASCII text and escaped NUL cross into the core and back unchanged', async () => {
  const module = await sharedModule();
  const { session, gen, now } = connected(module, 'job-utf8');
  const message = 'Größe prüfen ✓ 处理中 📦 \u0000 end';
  session.onText(gen, snapshot('job-utf8', { message, data: { 'clé': 'värde 🚀' } }), now + 1);
  const { events } = session.poll();
  const progress = events.find((e) => e.progress);
  expect(progress.progress.message).toBe(message);
  expect(session.view('job-utf8').message).toBe(message);
  expect(session.view('job-utf8').data).toEqual({ 'clé': 'värde 🚀' });
  session.delete();
});

test('a raw NUL byte inside a frame is judged by the core, not cut short at the boundary', async () => {
  const module = await sharedModule();
  const { session, gen, now } = connected(module, 'job-nul');
  // Cut at the NUL the text would be a valid snapshot; whole, it has trailing bytes: bad JSON.
  session.onText(gen, `${snapshot('job-nul', {})}\u0000{}`, now + 1);
  const { events } = session.poll();
  expect(events.find((e) => e.error)?.error.code).toBe('bad_frame');
  expect(session.view('job-nul').seq).toBe(0);
  session.delete();
});

test('a refused configuration throws ProgressWasmError naming the problem and frees it all', async () => {
  const module = await freshModule();
  const refuse = () => new WasmSession(module, { url: 'ws://hub.test', backof_min_ms: 5 });
  // The first C++ throw allocates the runtime's own exception state once; measure after it.
  expect(refuse).toThrow(ProgressWasmError);
  const before = module._heapInUse();
  for (let i = 0; i < 50; i += 1) {
    expect(() => new WasmSession(module, { url: 'ws://hub.test', backof_min_ms: 5 })).toThrow(
      /unknown client option backof_min_ms/,
    );
    expect(() => new WasmSession(module, { url: 'ws://hub.test', seed: 'one' })).toThrow(ProgressWasmError);
  }
  expect(module._heapInUse()).toBe(before);
});

test('a string argument that is not a string is refused, not coerced', async () => {
  const module = await sharedModule();
  const session = new WasmSession(module, { url: 'ws://hub.test' });
  session.start(1);
  expect(() => session.subscribe(42, 1)).toThrow(TypeError);
  expect(() => session.onText(1, undefined, 1)).toThrow(TypeError);
  expect(session.processIds()).toEqual([]);
  session.delete();
});

test('a deleted session refuses every call instead of touching freed memory', async () => {
  const module = await sharedModule();
  const session = new WasmSession(module, { url: 'ws://hub.test' });
  session.delete();
  session.delete();
  expect(session.deleted).toBe(true);
  expect(() => session.start(1)).toThrow(ProgressWasmError);
  expect(() => session.onText(1, '{}', 1)).toThrow(ProgressWasmError);
  expect(() => session.poll()).toThrow(ProgressWasmError);
  expect(() => session.view('job-1')).toThrow(ProgressWasmError);
});

test('a frame larger than the initial heap grows it, both ways, and the session keeps working', async () => {
  const module = await freshModule();
  const { session, gen, now } = connected(module, 'job-big');
  const memory = module.HEAPU8.buffer.byteLength;
  // Three bytes of room per UTF-16 unit: 6 M units need more than the initial 16 MiB heap, and
  // the view handed back (two bytes per 'é') is read from the grown heap.
  const message = `${'é'.repeat(6 * 1024 * 1024)} end`;
  session.onText(gen, snapshot('job-big', { message }), now + 1);
  expect(module.HEAPU8.buffer.byteLength).toBeGreaterThan(memory);
  expect(session.poll().events.find((e) => e.progress)?.progress.message).toBe(message);
  session.onText(gen, snapshot('job-big', { seq: 2, message: 'after growth ✓' }), now + 2);
  expect(session.poll().events.find((e) => e.progress)?.progress.message).toBe('after growth ✓');
  expect(session.view('job-big').seq).toBe(2);
  session.delete();
});

test('decodeServerFrame and isValidProcessId use the core rules', async () => {
  const module = await sharedModule();
  expect(decodeServerFrame(module, snapshot('job-1', { message: 'ünïcode' })).frame).toMatchObject({
    type: 'snapshot',
    process_id: 'job-1',
    message: 'ünïcode',
  });
  expect(decodeServerFrame(module, '{"type":').error.code).toBe('bad_frame');
  expect(decodeServerFrame(module, '{"type":"nope"}').error.code).toBe('unknown_type');
  expect(isValidProcessId(module, 'auto_proc_1.2:3-x')).toBe(true);
  expect(isValidProcessId(module, 'bad id')).toBe(false);
  expect(isValidProcessId(module, '')).toBe(false);
  expect(isValidProcessId(module, 'é')).toBe(false);
  expect(isValidProcessId(module, 42)).toBe(false);
});

test('control characters in a job message come back escaped and intact', async () => {
  const module = await sharedModule();
  const { session, gen, now } = connected(module, 'job-ctl');
  try {
    session.onText(gen, snapshot('job-ctl', { message: 'a\u0001b\u001f', data: { k: '\u0002\u007f' } }), now + 1);
    const { progress } = session.poll().events.find((e) => e.progress);
    expect(progress.message).toBe('a\u0001b\u001f');
    expect(progress.data).toEqual({ k: '\u0002\u007f' });
  } finally {
    session.delete();
  }
});

test('numbers with a fraction or an exponent read as JavaScript reads them (the module has its own strtod)', async () => {
  const module = await sharedModule();
  const { session, gen, now } = connected(module, 'job-num');
  // Raw tokens, so that the frame holds them as written: a tie, subnormals, the largest double
  // and an integer past 64 bits (read as a double).
  const tokens = [
    '0.1', '-0.0', '12.345678901234567', '2.5E+3', '1e-7', '0.30000000000000004',
    '1.00000000000000011102230246251565404236316680908203125', '2.2250738585072011e-308',
    '4.9406564584124654e-324', '1.7976931348623157e308', '123456789012345678901234567890',
  ];
  try {
    const frame = snapshot('job-num', { percent: 42.5, message: '' });
    session.onText(gen, frame.replace('"data":{}', `"data":{"n":[${tokens}]}`), now + 1);
    const { progress } = session.poll().events.find((e) => e.progress);
    expect(progress.percent).toBe(42.5);
    expect(progress.data.n).toEqual(tokens.map(Number));
  } finally {
    session.delete();
  }
});
