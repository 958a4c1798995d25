// @vitest-environment happy-dom
// The hook and the drop-in component over the real wasm session and a fake WebSocket: what a
// user sees in the DOM, how many sockets StrictMode and unmounts cost.
import { act, createElement as h, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, beforeAll, beforeEach, expect, test, vi } from 'vitest';

import { UploadProgress, useUploadProgress } from '../src/react.js';
import { peekClient, stopAllClients } from '../src/registry.js';
import { FakeWebSocket, progressFrame, snapshotFrame } from './helpers/fake-websocket.js';
import { sharedModule } from './helpers/wasm.js';

globalThis.IS_REACT_ACT_ENVIRONMENT = true;
const URL_ = 'ws://react.test';
const OPTIONS = { WebSocket: FakeWebSocket, window: null, seed: 3 };

let container;
let root;

beforeAll(async () => {
  await sharedModule();
});

beforeEach(() => {
  FakeWebSocket.reset();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
  container = document.createElement('div');
  document.body.appendChild(container);
  root = createRoot(container);
});

afterEach(() => {
  act(() => root.unmount());
  container.remove();
  stopAllClients();
  vi.useRealTimers();
});

async function settle() {
  await act(async () => {
    await peekClient(URL_)?.ready;
  });
}

async function serverSays(socket, frame) {
  await act(async () => socket.receive(frame));
}

test('StrictMode double mount: one socket, one subscribe; the component shows live progress', async () => {
  act(() =>
    root.render(h(StrictMode, null, h(UploadProgress, { processId: 'job-r1', url: URL_, options: OPTIONS }))),
  );
  await settle();
  expect(FakeWebSocket.instances).toHaveLength(1);
  const socket = FakeWebSocket.last();
  await act(async () => {
    socket.open();
    socket.hello();
  });
  expect(socket.sentOfType('subscribe')).toEqual([expect.objectContaining({ process_id: 'job-r1' })]);
  expect(container.querySelector('.progress-hub__connection').textContent).toBe('Live');

  await serverSays(
    socket,
    snapshotFrame('job-r1', { stage: 'text_extraction', percent: 42, message: 'page 3 of 7' }),
  );
  const bar = container.querySelector('[role=progressbar]');
  expect(bar.getAttribute('aria-valuenow')).toBe('42');
  expect(container.querySelector('.progress-hub__stage').textContent).toBe('Text extraction');
  expect(container.querySelector('.progress-hub__message').textContent).toBe('page 3 of 7');
  expect(container.querySelector('.progress-hub').dataset.state).toBe('running');
});

test('a failed job shows the server error text and the component reports the end once', async () => {
  const onDone = vi.fn();
  act(() => root.render(h(UploadProgress, { processId: 'job-r2', url: URL_, options: OPTIONS, onDone })));
  await settle();
  const socket = FakeWebSocket.last();
  await act(async () => {
    socket.open();
    socket.hello();
  });
  await serverSays(socket, snapshotFrame('job-r2', { percent: 20 }));
  await serverSays(
    socket,
    progressFrame('job-r2', 2, {
      state: 'failed',
      percent: 20,
      error: { code: 'ocr', message: 'scan unreadable' },
    }),
  );
  expect(container.querySelector('[role=alert]').textContent).toContain('scan unreadable');
  expect(container.querySelector('.progress-hub').dataset.state).toBe('failed');
  expect(onDone).toHaveBeenCalledTimes(1);
  expect(onDone.mock.calls[0][0]).toMatchObject({ state: 'failed', percent: 20 });
});

test('the hook returns the documented fields and unmounting during backoff stops reconnecting', async () => {
  let seen;
  function Probe() {
    seen = useUploadProgress('job-r3', { url: URL_, ...OPTIONS, backoff: { minMs: 2000, maxMs: 2000 } });
    return null;
  }
  act(() => root.render(h(Probe)));
  expect(seen).toMatchObject({ state: 'waiting', percent: 0, connected: false, error: null, stages: [] });
  await settle();
  const socket = FakeWebSocket.last();
  await act(async () => {
    socket.open();
    socket.hello();
  });
  await serverSays(socket, snapshotFrame('job-r3', { percent: 15, stage: 'analysis', message: 'm' }));
  expect(seen).toMatchObject({
    state: 'running',
    stage: 'analysis',
    percent: 15,
    message: 'm',
    connected: true,
    error: null,
  });
  expect(Array.isArray(seen.stages)).toBe(true);
  expect('eta' in seen).toBe(true);

  await act(async () => socket.drop());
  expect(seen.connected).toBe(false);
  expect(seen.percent).toBe(15);
  act(() => root.unmount());
  root = createRoot(container);
  await act(async () => vi.advanceTimersByTimeAsync(600_000));
  // The unmounted page never reconnected: the linger ran out and the client stopped.
  expect(peekClient(URL_)).toBeUndefined();
  expect(FakeWebSocket.live()).toHaveLength(0);
  expect(vi.getTimerCount()).toBe(0);
});

test('an invalid id renders a clear error and opens no socket', async () => {
  act(() => root.render(h(UploadProgress, { processId: 'bad id/../x', url: URL_, options: OPTIONS })));
  await settle();
  await act(async () => {});
  expect(container.querySelector('[role=alert]').textContent.toLowerCase()).toContain('process id');
  expect(FakeWebSocket.instances).toHaveLength(0);
});
