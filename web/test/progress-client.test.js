// ProgressClient with a fake WebSocket and fake timers, running the real wasm session: what the
// page sees (views, states, sockets opened and closed) across drops, remounts and shutdown.
import { afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';

import { ProgressClient } from '../src/progress-client.js';
import { acquireClient, releaseClient, stopAllClients } from '../src/registry.js';
import { FakeWebSocket, progressFrame, snapshotFrame } from './helpers/fake-websocket.js';
import { sharedModule } from './helpers/wasm.js';

const URL_ = 'ws://hub.test';

function client(options = {}) {
  return new ProgressClient({ url: URL_, WebSocket: FakeWebSocket, window: null, seed: 7, ...options });
}

async function liveSocket(c, heartbeatMs = 20000) {
  await c.ready;
  const socket = FakeWebSocket.last();
  expect(socket, 'a socket was opened').toBeDefined();
  socket.open();
  socket.hello(heartbeatMs);
  return socket;
}

beforeAll(async () => {
  await sharedModule();
});

beforeEach(() => {
  FakeWebSocket.reset();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
  vi.setSystemTime(1_700_000_000_000);
});

afterEach(() => {
  stopAllClients();
  vi.useRealTimers();
});

describe('ProgressClient', () => {
  test('connects to /ws/progress, subscribes after hello, resolves done() with the final view', async () => {
    const c = client();
    const finished = c.done('job-1');
    const socket = await liveSocket(c);
    expect(socket.url).toBe(`${URL_}/ws/progress`);
    expect(socket.sentOfType('subscribe')).toEqual([expect.objectContaining({ process_id: 'job-1' })]);
    expect(c.state).toBe('live');
    expect(c.connected).toBe(true);

    socket.receive(snapshotFrame('job-1', { seq: 1, percent: 10 }));
    expect(c.view('job-1')).toMatchObject({ status: 'active', percent: 10, stage: 'upload_received' });
    socket.receive(progressFrame('job-1', 2, { stage: 'analysis', percent: 60 }));
    socket.receive(
      progressFrame('job-1', 3, {
        stage: 'analysis',
        state: 'completed',
        percent: 100,
        result: { ok: true },
      }),
    );

    const view = await finished;
    expect(view).toMatchObject({ status: 'done', state: 'completed', percent: 100, result: { ok: true } });
    // Nothing left to watch: the socket is closed cleanly and never reopened.
    expect(socket.closedWith).toMatchObject({ code: 1000 });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  test('after a drop it reconnects and resumes from the last seq without going backwards', async () => {
    const c = client({ backoff: { minMs: 100, maxMs: 1000 } });
    c.watch('job-2');
    const first = await liveSocket(c);
    first.receive(snapshotFrame('job-2', { seq: 3, percent: 30 }));
    first.receive(progressFrame('job-2', 4, { percent: 40 }));
    const percents = [];
    c.on('progress', (v) => percents.push(v.percent));

    first.drop();
    expect(['reconnecting', 'connecting']).toContain(c.state);
    expect(c.view('job-2').percent).toBe(40); // the page keeps showing the last state
    await vi.advanceTimersByTimeAsync(1000);
    const second = FakeWebSocket.last();
    expect(second).not.toBe(first);
    second.open();
    second.hello();
    expect(second.sentOfType('subscribe')).toEqual([
      expect.objectContaining({ process_id: 'job-2', after_seq: 4, epoch: 'e0000001' }),
    ]);
    second.receive(progressFrame('job-2', 4, { percent: 40 })); // replayed duplicate
    second.receive(progressFrame('job-2', 5, { percent: 50 }));
    expect(c.view('job-2')).toMatchObject({ seq: 5, percent: 50 });
    expect(percents).toEqual([50]);
    expect(FakeWebSocket.live()).toEqual([second]);
  });

  test('a socket that stays silent past heartbeat + grace is replaced', async () => {
    const c = client({ heartbeatMs: 1000, staleGraceMs: 500, backoff: { minMs: 10, maxMs: 20 } });
    c.watch('job-3');
    const first = await liveSocket(c, 1000);
    await vi.advanceTimersByTimeAsync(1600);
    expect(first.closedWith).not.toBeNull();
    await vi.advanceTimersByTimeAsync(50);
    expect(FakeWebSocket.instances.length).toBeGreaterThan(1);
    expect(FakeWebSocket.live()).toHaveLength(1);
  });

  test('stop() during backoff leaves no socket and no timer behind', async () => {
    const c = client({ backoff: { minMs: 5000, maxMs: 5000 } });
    c.watch('job-4');
    const socket = await liveSocket(c);
    socket.drop();
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    c.stop();
    expect(c.state).toBe('stopped');
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  test('a watch released and taken again within the linger keeps the subscription', async () => {
    const c = client();
    const unwatch = c.watch('job-5');
    const socket = await liveSocket(c);
    unwatch();
    await vi.advanceTimersByTimeAsync(1000);
    const again = c.watch('job-5');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(socket.sentOfType('subscribe')).toHaveLength(1);
    expect(socket.sentOfType('unsubscribe')).toHaveLength(0);
    again();
    await vi.advanceTimersByTimeAsync(3000);
    expect(socket.sentOfType('unsubscribe')).toEqual([expect.objectContaining({ process_id: 'job-5' })]);
  });

  test('online and visibility events are fed to the session (probe ping on a live socket)', async () => {
    const win = new EventTarget();
    win.document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
    const c = client({ window: win });
    c.watch('job-6');
    const socket = await liveSocket(c);
    win.dispatchEvent(new Event('online'));
    expect(socket.sentOfType('ping')).toHaveLength(1);
    socket.receive({ type: 'pong', ts: socket.sentOfType('ping')[0].ts });

    // The tab comes back to the foreground: probed again, the answered socket is kept.
    win.document.visibilityState = 'hidden';
    win.document.dispatchEvent(new Event('visibilitychange'));
    win.document.visibilityState = 'visible';
    win.document.dispatchEvent(new Event('visibilitychange'));
    expect(socket.sentOfType('ping')).toHaveLength(2);
    socket.receive({ type: 'pong', ts: socket.sentOfType('ping')[1].ts });
    await vi.advanceTimersByTimeAsync(5000);
    expect(FakeWebSocket.live()).toEqual([socket]);

    // Restored from the back/forward cache: a new socket at once.
    const restored = new Event('pageshow');
    restored.persisted = true;
    win.dispatchEvent(restored);
    expect(socket.closedWith).not.toBeNull();
    expect(FakeWebSocket.instances).toHaveLength(2);
    c.stop();
    // Listeners are removed with the client: a later event reaches nothing.
    win.dispatchEvent(new Event('online'));
    win.dispatchEvent(restored);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  test('an invalid process id fails the watch with a clear error and opens no socket', async () => {
    const c = client();
    const result = c.done('not a valid id!');
    await c.ready;
    const view = await result;
    expect(view.status).toBe('failed');
    expect(view.failure).toMatchObject({ code: 'invalid_process_id' });
    expect(view.failure.message.length).toBeGreaterThan(0);
    expect(FakeWebSocket.instances).toHaveLength(0);
  });
});

describe('shared clients', () => {
  test('one URL shares one client and socket; the last release stops it after the linger', async () => {
    const a = acquireClient({ url: 'http://hub.test/', WebSocket: FakeWebSocket, window: null });
    const b = acquireClient({ url: URL_, WebSocket: FakeWebSocket, window: null });
    expect(b).toBe(a);
    a.watch('job-a');
    b.watch('job-b');
    const socket = await liveSocket(a);
    expect(
      socket
        .sentOfType('subscribe')
        .map((f) => f.process_id)
        .sort(),
    ).toEqual(['job-a', 'job-b']);
    expect(FakeWebSocket.instances).toHaveLength(1);

    releaseClient(a);
    await vi.advanceTimersByTimeAsync(5000);
    expect(a.state).not.toBe('stopped'); // b still holds it
    releaseClient(b);
    await vi.advanceTimersByTimeAsync(2900);
    expect(a.state).not.toBe('stopped'); // lingering
    const again = acquireClient({ url: URL_, WebSocket: FakeWebSocket, window: null });
    expect(again).toBe(a); // picked up again inside the linger: no reconnect
    releaseClient(again);
    await vi.advanceTimersByTimeAsync(3000);
    expect(a.state).toBe('stopped');
    expect(socket.closedWith).not.toBeNull();
    const fresh = acquireClient({ url: URL_, WebSocket: FakeWebSocket, window: null });
    expect(fresh).not.toBe(a);
    releaseClient(fresh);
  });
});

describe('decisions the session makes, carried out by the page', () => {
  test('a send on a socket that is already closing is not dropped: the session replaces the socket', async () => {
    const c = client({ backoff: { minMs: 1000, maxMs: 1000 } });
    c.watch('job-s1');
    const socket = await liveSocket(c);
    // The server's close is on its way but not delivered yet; a ping must still be answered.
    socket.readyState = FakeWebSocket.CLOSING;
    socket.receive({ type: 'ping', ts: 5 });
    expect(socket.closedWith).toEqual({ code: 4000, reason: 'send failed' });
    expect(c.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  test('the connection label and the ETA text come from the core', async () => {
    const c = client();
    c.watch('job-s2');
    const socket = await liveSocket(c);
    expect(c.connectionLabel).toBe('Live');
    const t0 = Date.now();
    socket.receive(snapshotFrame('job-s2', { seq: 1, percent: 10.04, updated_at: t0 + 1000 }));
    socket.receive(progressFrame('job-s2', 2, { percent: 20.04, ts: t0 + 2000 }));
    socket.receive(progressFrame('job-s2', 3, { percent: 20.54, ts: t0 + 3000 }));
    // 15.135 s left: whole seconds rounded up, as progress-watch prints it.
    expect(c.view('job-s2').display).toMatchObject({
      percent: 20.5,
      percent_text: '20.5%',
      eta_ms: 15135,
      eta_text: 'about 16 s left',
      terminal: false,
    });
  });

  test('every input of the core table is a method of the session wrapper', async () => {
    const module = await sharedModule();
    const { WasmSession } = await import('../src/session.js');
    const session = new WasmSession(module, { url: URL_ });
    try {
      for (const name of session.inputs_.keys()) {
        const method = name.replace(/_(.)/g, (_, ch) => ch.toUpperCase());
        expect(typeof session[method], method).toBe('function');
      }
      expect(() => session.input('no_such_input', 1)).toThrow(/no input no_such_input/);
    } finally {
      session.delete();
    }
  });

  test('the registry key agrees with the core on what is connected', async () => {
    for (const url of ['http://hub.test/', 'HTTPS://Hub.Test:443/base/ws/progress/', 'ws://127.0.0.1:8000//']) {
      FakeWebSocket.reset();
      const c = client({ url });
      c.watch('job-u');
      await c.ready;
      expect(FakeWebSocket.last().url, url).toBe(`${c.url}/ws/progress`);
      c.stop();
    }
  });
});
