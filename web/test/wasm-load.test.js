// @vitest-environment happy-dom
// A wasm core that cannot be loaded is the error a user sees, naming the URL that failed: the
// hook's `error` and the component's error text, never "Not connected" for ever. Its own file:
// loadWasm keeps one module per page, and the other files load it successfully first.
import { once } from 'node:events';
import http from 'node:http';

import { act, createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'vitest';

import { UploadProgress } from '../src/react.js';
import { peekClient, stopAllClients } from '../src/registry.js';
import { FakeWebSocket } from './helpers/fake-websocket.js';

globalThis.IS_REACT_ACT_ENVIRONMENT = true;

// What a static host answers: 404 for a file it lacks, and a dev server's page fallback (to any
// origin, as happy-dom's page is about:blank and it asks with a preflight first).
const ANY_ORIGIN = { 'access-control-allow-origin': '*' };
let server;
let base;
beforeAll(async () => {
  server = http.createServer((request, response) => {
    if (request.method === 'OPTIONS') {
      response.writeHead(204, ANY_ORIGIN).end();
      return;
    }
    if (request.url.startsWith('/missing/')) {
      response.writeHead(404, { 'content-type': 'text/plain', ...ANY_ORIGIN }).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html', ...ANY_ORIGIN }).end('<!doctype html><div id="root"></div>');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${server.address().port}`;
});

afterAll(() => server.close());

let container;
let root;
beforeEach(() => {
  container = document.createElement('div');
  document.body.appendChild(container);
  root = createRoot(container);
});

afterEach(() => {
  act(() => root.unmount());
  container.remove();
  stopAllClients();
});

async function showWith(wasmAt) {
  const url = `ws://wasm-load.test/${wasmAt.length}`;
  const options = { WebSocket: FakeWebSocket, window: null, wasm: { locateFile: () => `${base}${wasmAt}` } };
  act(() => root.render(h(UploadProgress, { processId: 'job-w1', url, options })));
  await act(async () => {
    await peekClient(url).ready;
  });
  return container.querySelector('.progress-hub');
}

test('a .wasm answering 404 is the component error, with its URL', async () => {
  const shown = await showWith('/missing/progress_wasm.wasm');
  expect(shown.dataset.state).toBe('error');
  expect(shown.querySelector('.progress-hub__error').textContent).toBe(
    `progress-hub: cannot load the wasm core: ${base}/missing/progress_wasm.wasm answered HTTP 404`,
  );
  expect(FakeWebSocket.instances).toHaveLength(0);
});

test("a dev server's HTML fallback in place of the .wasm is refused, not compiled", async () => {
  const shown = await showWith('/fallback/progress_wasm.wasm');
  expect(shown.dataset.state).toBe('error');
  expect(shown.querySelector('.progress-hub__error').textContent).toBe(
    `progress-hub: cannot load the wasm core: ${base}/fallback/progress_wasm.wasm is not a wasm module (text/html)`,
  );
});
