// The package as a user installs it: each app under tests/apps/ installs the packed tarball from
// the hub (`npm install http://HUB/progress-hub-client.tgz`, put in web/ by toolchains/pack.sh),
// type-checks, builds (webpack must print no warning) and runs in Chromium against the real hub
// until its job is `completed`. Neither app calls loadWasm or configures anything for the
// package. The Vite app also runs under Vite's dev server, and each production build must show a
// wasm that fails to load as the component's error, with the URL.
// Usage: node tests/apps/run.mjs [vite|webpack|path ...]   (after `npm ci --prefix web`)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchBrowser, postJson, publish, startServer, webRoot } from '../../web/test/e2e/harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const TIMEOUT_MS = 20_000;
// Vite's dev server prints its address once it listens; a slower start is a failure, never a hang.
const DEV_START_MS = 60_000;

/** Runs a command in an app folder; rejects with its output when it fails. */
function run(cwd, command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} in ${cwd}: exit ${code}\n${output}`));
    });
  });
}

async function install(app, packageUrl) {
  await run(app, 'npm', ['ci', '--no-audit', '--no-fund']);
  // Not in package.json: the lock file would pin the tarball's hash, which changes with every build.
  await run(app, 'npm', ['install', '--no-save', '--prefer-online', '--no-audit', '--no-fund', packageUrl]);
  await run(app, 'npx', ['tsc', '--noEmit']);
}

/** Opens the app on `pageBase` following a new process on `hub`, and drives the job to the end. */
async function reachesCompleted(browser, pageBase, hub, label) {
  const page = await browser.context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // Failed requests are checked below, by URL (the browser asks for a favicon the apps lack).
    if (/^Failed to load resource/.test(message.text())) return;
    if (['error', 'warning'].includes(message.type())) problems.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico'))
      problems.push(`HTTP ${response.status()} for ${response.url()}`);
  });
  try {
    const id = `app-${label.replace(/\W+/g, '-')}-${Date.now()}`;
    assert.equal((await postJson(hub, '/api/processes', { process_id: id })).status, 201);
    await page.goto(`${pageBase}/?process=${id}&hub=${encodeURIComponent(hub)}`);
    const component = page.locator('.progress-hub');
    await component.locator('[data-connected="true"]').waitFor({ timeout: TIMEOUT_MS });
    await publish(hub, id, { stage: 'text_extraction', percent: 40, message: 'reading' });
    await page.locator('.progress-hub__percent', { hasText: '40%' }).waitFor({ timeout: TIMEOUT_MS });
    await publish(hub, id, { state: 'completed', result: { words: 3 } });
    await page.locator('.progress-hub[data-state="completed"]').waitFor({ timeout: TIMEOUT_MS });
    assert.equal(await page.locator('#status').getAttribute('data-state'), 'completed');
    assert.equal(await page.locator('.progress-hub__percent').textContent(), '100%');
    assert.deepEqual(problems, [], `${label}: the page reported problems`);
    console.log(`${label}: completed`);
  } catch (error) {
    const shown = await page.locator('main').textContent().catch(() => '(no page)');
    console.error(`${label}: the page shows "${shown}"; problems: ${JSON.stringify(problems)}`);
    throw error;
  } finally {
    await page.close();
  }
}

/** With the .wasm answering 404, the component and the hook show an error naming its URL. */
async function showsWasmFailure(browser, pageBase, label) {
  const page = await browser.context.newPage();
  try {
    await page.route('**/*.wasm', (route) => route.fulfill({ status: 404, body: 'gone' }));
    await page.goto(`${pageBase}/?process=app-nowasm-${Date.now()}`);
    const error = page.locator('.progress-hub__error');
    await error.waitFor({ timeout: TIMEOUT_MS });
    const text = await error.textContent();
    assert.match(text, /cannot load the wasm core: \S+\.wasm answered HTTP 404$/);
    assert.equal(await page.locator('#status').getAttribute('data-state'), 'error');
    assert.equal(await page.locator('.progress-hub').getAttribute('data-state'), 'error');
    console.log(`${label}: wasm failure shown as "${text}"`);
  } finally {
    await page.close();
  }
}

/** The production build, served by the hub itself (the page's origin is the hub). */
async function production(browser, app, name) {
  const output = await run(app, 'npm', ['run', 'build']);
  if (name.startsWith('webpack'))
    assert.doesNotMatch(output, /warning/i, `webpack printed a warning:\n${output}`);
  const hub = await startServer([], join(app, 'dist'));
  try {
    await reachesCompleted(browser, hub.base, hub.base, `${name} build`);
    await showsWasmFailure(browser, hub.base, `${name} build`);
  } finally {
    await hub.stop();
  }
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Vite's dev server (pre-bundled dependencies, no build) against a hub on another port. */
async function viteDev(browser, app, name) {
  const hub = await startServer([], join(app, 'dist'));
  const port = await freePort();
  const vite = spawn(
    join(app, 'node_modules', '.bin', 'vite'),
    ['--host', '127.0.0.1', '--port', `${port}`, '--strictPort'],
    // CI=true turns Vite's colours on even without a terminal; its address must read as plain text.
    { cwd: app, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
  );
  let output = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`vite dev did not say it listens on ${port} within ${DEV_START_MS} ms:\n${output}`)),
      DEV_START_MS,
    );
    vite.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.replace(/\x1b\[[0-9;]*m/g, '').includes(`127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    vite.stderr.on('data', (chunk) => (output += chunk));
    vite.on('exit', (code) => reject(new Error(`vite dev exited with ${code}:\n${output}`)));
  });
  try {
    await ready;
    await reachesCompleted(browser, `http://127.0.0.1:${port}`, hub.base, `${name} dev`);
  } finally {
    vite.kill('SIGTERM');
    await hub.stop();
  }
}

const apps = process.argv.slice(2).length ? process.argv.slice(2) : ['vite', 'webpack'];
if (!existsSync(join(webRoot, 'progress-hub-client.tgz')))
  throw new Error('web/progress-hub-client.tgz is missing: bash toolchains/pack.sh');
const packageHub = await startServer();
const browser = await launchBrowser();
try {
  for (const folder of apps) {
    const app = resolve(here, folder);
    const name = basename(app);
    await install(app, `${packageHub.base}/progress-hub-client.tgz`);
    await production(browser, app, name);
    if (existsSync(join(app, 'node_modules', '.bin', 'vite'))) await viteDev(browser, app, name);
  }
} finally {
  await browser.close();
  await packageHub.stop();
}
