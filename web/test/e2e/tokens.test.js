// Subscription tokens in real Chromium against a hub started with --token-secret-file: the
// package asks getToken before every subscribe, so a reconnect after the token expired gets a
// fresh one, and a token the hub calls expired is replaced once.
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'vitest';

import { launchBrowser, postJson, publish, screenshot, startProxy, startServer } from './harness.js';

const SECRET = 'e2e-token-secret';

// HS256 as clients/python progress_hub.mint_token writes it: claims sub, iat, exp (seconds).
function mintToken(processId, ttlSeconds, issued = Math.floor(Date.now() / 1000)) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: processId, iat: issued, exp: issued + ttlSeconds })}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

let secretDir;
let server;
let proxy;
let browser;
let page;
let minted; // what the page's getToken handed out, in order: {processId, expired}
let nextTokens; // ttl in seconds of each token to hand out next (negative: already expired)

beforeAll(async () => {
  secretDir = mkdtempSync(join(tmpdir(), 'progress-e2e-secret-'));
  writeFileSync(join(secretDir, 'secret'), `${SECRET}\n`);
  server = await startServer(['--token-secret-file', join(secretDir, 'secret')]);
  proxy = await startProxy(server.port);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await server?.stop();
  if (secretDir) rmSync(secretDir, { recursive: true, force: true });
});

beforeEach(async () => {
  page = await browser.context.newPage();
  page.on('pageerror', (error) => {
    throw error;
  });
  minted = [];
  nextTokens = [];
  await page.exposeFunction('mintForTest', (processId) => {
    const ttl = nextTokens.shift() ?? 60;
    minted.push({ processId, expired: ttl < 0 });
    if (ttl === 'reject') throw new Error('token endpoint said 403');
    return ttl < 0 ? mintToken(processId, 10, Math.floor(Date.now() / 1000) + ttl - 10) : mintToken(processId, ttl);
  });
  await page.goto(`${server.base}/`);
});

afterEach(async (context) => {
  await screenshot(page, `tokens-${context.task.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`);
  await page.close();
});

// A ProgressClient on the page, through the proxy, whose getToken asks the test for a token.
// The script is text: vitest would rewrite a dynamic import() inside a function.
async function watchInPage(processId) {
  await page.evaluate(`(async () => {
    const { ProgressClient } = await import('/src/index.js');
    const client = new ProgressClient({ url: ${JSON.stringify(proxy.base)}, getToken: (id) => window.mintForTest(id) });
    window.seen = [];
    client.on('progress', (view) => window.seen.push(view));
    window.tokenClient = client;
    client.watch(${JSON.stringify(processId)});
  })()`);
}

const lastView = () => page.evaluate(() => window.seen.at(-1) ?? null);

test('a token that expires mid-job: the reconnect gets a fresh one and the job reaches completed', async () => {
  const id = `e2e-token-${Date.now()}`;
  expect((await postJson(server.base, '/api/processes', { process_id: id })).status).toBeLessThan(300);
  await publish(server.base, id, { stage: 'upload_received', percent: 30 });
  // The first token lives 2 s; after the reconnect the page is handed one that has already
  // expired (the hub refuses it with reason `expired`), then a good one.
  nextTokens = [2, -5, 60];
  await watchInPage(id);
  await expect.poll(async () => (await lastView())?.percent, { timeout: 15_000 }).toBe(30);

  // Let the first token expire while the job runs, then drop the connection.
  await new Promise((resolve) => setTimeout(resolve, 3_100));
  proxy.cut();
  await publish(server.base, id, { stage: 'analysis', percent: 70 });
  proxy.restore();
  await expect.poll(async () => (await lastView())?.percent, { timeout: 30_000 }).toBe(70);
  await publish(server.base, id, { state: 'completed', result: { ok: true } });

  await expect.poll(async () => (await lastView())?.state, { timeout: 15_000 }).toBe('completed');
  const final = await lastView();
  expect(final.status).toBe('done');
  expect(final.failure).toBeUndefined();
  expect(minted).toEqual([
    { processId: id, expired: false },
    { processId: id, expired: true },
    { processId: id, expired: false },
  ]);
  await page.evaluate(() => window.tokenClient.stop());
});

test('a getToken that rejects fails the watch with its message', async () => {
  const id = `e2e-token-rejected-${Date.now()}`;
  expect((await postJson(server.base, '/api/processes', { process_id: id })).status).toBeLessThan(300);
  nextTokens = ['reject'];
  await watchInPage(id);
  await expect.poll(async () => (await lastView())?.status, { timeout: 15_000 }).toBe('failed');
  const final = await lastView();
  expect(final.failure).toEqual({
    code: 'unauthorized',
    message: `no token for ${id}: token endpoint said 403`,
  });
  expect(final.display.error_text).toContain('token endpoint said 403');
  await page.evaluate(() => window.tokenClient.stop());
});
