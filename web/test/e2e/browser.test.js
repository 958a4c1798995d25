// The required end-to-end scenarios in real Chromium against the real server: the demo page
// (web/index.html) with the package and the wasm core exactly as a user's browser loads them.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';

import { launchBrowser, postJson, publish, screenshot, startProxy, startServer } from './harness.js';

let server;
let browser;
let page;
let sockets; // WebSocket URLs the page opened

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

beforeEach(async () => {
  page = await browser.context.newPage();
  sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  page.on('pageerror', (error) => {
    throw error;
  });
});

afterEach(async (context) => {
  await screenshot(page, context.task.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase());
  await page.close();
});

const job = () => page.locator('#job');
const history = () => page.evaluate(() => window.progressDemo.history);

function expectNeverBackwards(seen) {
  for (let i = 1; i < seen.length; i += 1) {
    if (seen[i].epoch === seen[i - 1].epoch) {
      expect(seen[i].percent, `percent went backwards at ${JSON.stringify(seen[i])}`).toBeGreaterThanOrEqual(
        seen[i - 1].percent,
      );
      expect(seen[i].seq).toBeGreaterThan(seen[i - 1].seq);
    }
  }
}

describe('demo page in Chromium', () => {
  test('uploading a file shows the job through its stages to completed at 100%', async () => {
    await page.goto(`${server.base}/`);
    await page.locator('#file').setInputFiles({
      name: 'report.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('progress hub end to end\n'.repeat(20_000)),
    });
    await expect.poll(() => job().getAttribute('data-state'), { timeout: 30_000 }).toBe('completed');
    expect(await page.locator('#percent').textContent()).toBe('100%');
    expect(await page.locator('#bar').getAttribute('aria-valuenow')).toBe('100');
    const stages = await page
      .locator('#stages li')
      .evaluateAll((items) => items.map((li) => li.dataset.stage));
    expect(stages).toEqual(['upload_received', 'checksum', 'text_extraction', 'analysis']);
    expect(await page.locator('#job-error').isHidden()).toBe(true);
    expectNeverBackwards(await history());
    expect(sockets.filter((url) => url.includes('/ws/progress'))).toHaveLength(1);
  });

  test('opening the page for a finished process shows its final state at once', async () => {
    const id = `e2e-finished-${Date.now()}`;
    expect((await postJson(server.base, '/api/processes', { process_id: id })).status).toBeLessThan(300);
    await publish(server.base, id, { stage: 'text_extraction', percent: 40, message: 'reading' });
    await publish(server.base, id, { stage: 'analysis', percent: 80 });
    await publish(server.base, id, { state: 'completed', result: { words: 12 } });

    await page.goto(`${server.base}/?process=${id}`);
    await expect.poll(() => job().getAttribute('data-state'), { timeout: 15_000 }).toBe('completed');
    const seen = await history();
    // The first thing the page heard was already the final state: no replay, no waiting.
    expect(seen[0]).toMatchObject({ state: 'completed', percent: 100 });
    expect(
      await page.locator('#stages li').evaluateAll((items) => items.map((li) => li.dataset.stage)),
    ).toEqual(['text_extraction', 'analysis']);
    expect(await page.locator('#result').textContent()).toContain('"words": 12');
  });

  test('opening the page before the process exists shows waiting, then its progress', async () => {
    const id = `e2e-early-${Date.now()}`;
    await page.goto(`${server.base}/?process=${id}`);
    await expect.poll(() => job().getAttribute('data-state'), { timeout: 15_000 }).toBe('pending');
    // The core's text, the one the React component shows too.
    expect(await page.locator('#job-state').textContent()).toBe('Waiting for the job to start…');

    await publish(server.base, id, { stage: 'text_extraction', percent: 25, message: 'page 1 of 4' });
    await expect.poll(() => page.locator('#percent').textContent()).toBe('25%');
    expect(await job().getAttribute('data-state')).toBe('running');
    expect(await page.locator('#message').textContent()).toBe('page 1 of 4');
    await publish(server.base, id, { stage: 'analysis', percent: 70 });
    await publish(server.base, id, { state: 'completed' });
    await expect.poll(() => job().getAttribute('data-state')).toBe('completed');
    expect(await page.locator('#percent').textContent()).toBe('100%');
    expectNeverBackwards(await history());
  });

  test('a connection cut mid-job recovers with no percent going backwards and no stage skipped', async () => {
    const proxy = await startProxy(server.port);
    try {
      const id = `e2e-cut-${Date.now()}`;
      await publish(server.base, id, { stage: 'upload_received', percent: 5 });
      await page.goto(`${proxy.base}/?process=${id}`);
      await expect.poll(() => page.locator('#percent').textContent(), { timeout: 15_000 }).toBe('5%');
      await publish(server.base, id, { stage: 'text_extraction', percent: 20 });
      await expect.poll(() => page.locator('#percent').textContent(), { timeout: 15_000 }).toBe('20%');
      expect(await page.locator('#connection').getAttribute('data-connection')).toBe('live');

      proxy.cut();
      await expect.poll(() => page.locator('#connection').getAttribute('data-connection')).not.toBe('live');
      // The job goes on while the browser is cut off, through a stage change.
      await publish(server.base, id, { stage: 'text_extraction', percent: 35 });
      await publish(server.base, id, { stage: 'analysis', percent: 60, message: 'while offline' });
      await publish(server.base, id, { stage: 'analysis', percent: 75 });
      proxy.restore();

      await expect.poll(() => page.locator('#percent').textContent(), { timeout: 45_000 }).toBe('75%');
      expect(await page.locator('#connection').getAttribute('data-connection')).toBe('live');
      await publish(server.base, id, { state: 'completed' });
      await expect.poll(() => job().getAttribute('data-state')).toBe('completed');

      const seen = await history();
      expectNeverBackwards(seen);
      const last = seen[seen.length - 1];
      expect(last.stages).toEqual(['upload_received', 'text_extraction', 'analysis']);
      // Resumed, not restarted: one epoch throughout, and every stage the job went through was shown.
      expect(new Set(seen.map((v) => v.epoch)).size).toBe(1);
      const shownStages = [...new Set(seen.map((v) => v.stage))];
      expect(shownStages).toEqual(['upload_received', 'text_extraction', 'analysis']);
      expect(sockets.filter((url) => url.includes('/ws/progress')).length).toBeGreaterThanOrEqual(2);
    } finally {
      await proxy.close();
    }
  });

  test('an invalid process id shows a clear error and opens no socket', async () => {
    await page.goto(`${server.base}/?process=${encodeURIComponent('not a valid id/../x')}`);
    await expect.poll(() => job().getAttribute('data-state'), { timeout: 15_000 }).toBe('error');
    const text = await page.locator('#job-error').textContent();
    expect(text).toMatch(/process id/i);
    expect(await page.locator('#job-error').isVisible()).toBe(true);
    // The session refused the id before any connect: nothing was opened, and nothing is scheduled.
    expect(sockets).toEqual([]);
    expect(await page.evaluate(() => window.progressDemo.client.state)).not.toMatch(
      /connecting|reconnecting/,
    );
  });
});
