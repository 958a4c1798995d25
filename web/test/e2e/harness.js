// What the browser end-to-end tests run against: the real server binary on a free port, real
// Chromium (never downloaded: the system one), and a TCP proxy the test can cut.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const webRoot = join(here, '..', '..');
const repoRoot = join(webRoot, '..');
export const screenshotDir = join(repoRoot, 'build', 'e2e-screenshots');

const CHROMIUM = process.env.PROGRESS_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Starts $PROGRESS_HUB_BIN on port 0 serving `root` (default web/) and resolves once it says
 * where it listens.
 */
export async function startServer(extraArgs = [], root = webRoot) {
  const bin =
    process.env.PROGRESS_HUB_BIN ??
    join(repoRoot, 'build', 'native-debug', 'native', 'server', 'progress-hub');
  if (!existsSync(bin))
    throw new Error(`server binary not found: ${bin} (set PROGRESS_HUB_BIN or build native-debug)`);
  if (root === webRoot && !existsSync(join(webRoot, 'dist', 'progress_wasm.wasm'))) {
    throw new Error('web/dist has no wasm build: cmake --build --preset wasm --target progress_wasm');
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'progress-e2e-'));
  const child = spawn(
    bin,
    ['--listen', '127.0.0.1:0', '--web-root', root, '--data-dir', dataDir, ...extraArgs],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const port = await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (m) resolve(Number(m[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${output}`)));
    child.on('error', reject);
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    port,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.on('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** POSTs JSON to the server and returns {status, body}. */
export async function postJson(base, path, body) {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Publishes one update and fails the test when the server refuses it. */
export async function publish(base, processId, update) {
  const { status, body } = await postJson(
    base,
    `/api/processes/${encodeURIComponent(processId)}/progress`,
    update,
  );
  if (status !== 200 && status !== 201)
    throw new Error(`publish ${JSON.stringify(update)} -> ${status} ${JSON.stringify(body)}`);
  return body;
}

/** Real Chromium with a fresh profile. */
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'progress-chromium-'));
  // headless: false keeps Playwright from adding its own headless flags; ours has --headless.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: false,
    args: CHROMIUM_ARGS,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true, animations: 'disabled' });
}

/**
 * A TCP proxy to 127.0.0.1:targetPort. cut() destroys every connection through it and refuses
 * new ones until restore(): the browser sees the network drop, the server sees a dead peer.
 */
export async function startProxy(targetPort) {
  const sockets = new Set();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    base: `http://127.0.0.1:${port}`,
    cut() {
      refusing = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      refusing = false;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
