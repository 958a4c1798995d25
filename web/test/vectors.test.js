// Replays every tests/vectors/client-*.json case through the session API the package uses
// (WasmSession), with the same expectations as the native runner (tests/vectors/README.md).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { beforeAll, describe, expect, test } from 'vitest';

import { WasmSession } from '../src/session.js';
import { JsonMatcher } from './helpers/json-match.js';
import { sharedModule } from './helpers/wasm.js';

const vectorDir =
  process.env.PROGRESS_VECTOR_DIR ?? fileURLToPath(new URL('../../tests/vectors/', import.meta.url));
const files = readdirSync(vectorDir)
  .filter((name) => /^client-.*\.json$/.test(name))
  .sort();

// Actions as the vector files write them; a send is matched as the parsed frame.
function actionForVector(action) {
  if (action.send !== undefined) return { send: JSON.parse(action.send), generation: action.generation };
  return action;
}

const CALLS = {
  start: (s, step, now) => s.start(now),
  subscribe: (s, step, now) => s.subscribe(step.process_id, now),
  unsubscribe: (s, step, now) => s.unsubscribe(step.process_id, now),
  open: (s, step, now) => s.onOpen(step.generation, now),
  error: (s, step, now) => s.onError(step.generation, now),
  text: (s, step, now) => s.onText(step.generation, step.text ?? JSON.stringify(step.frame), now),
  close: (s, step, now) => s.onClose(step.generation, step.code ?? 1006, step.reason ?? '', now),
  timer: (s, step, now) => s.onTimer(now),
  online: (s, step, now) => s.onOnline(now),
  offline: (s, step, now) => s.onOffline(now),
  visible: (s, step, now) => s.onVisible(now),
  hidden: (s, step, now) => s.onHidden(now),
  reconnect: (s, step, now) => s.reconnect(now),
  stop: (s, step, now) => s.stop(now),
  watch: (s, step, now) => s.watch(step.process_id, now),
  release: (s, step, now) => s.release(step.process_id, now),
  retain: (s, step, now) => s.retain(now),
  release_client: (s, step, now) => s.releaseClient(now),
  send_failed: (s, step, now) => s.onSendFailed(step.generation, now),
  pageshow: (s, step, now) => s.onPageshow(step.persisted, now),
  token: (s, step, now) => s.onToken(`${step.process_id} ${step.token}`, now),
  token_failed: (s, step, now) => s.onTokenFailed(`${step.process_id} ${step.why}`, now),
};

// The keys a step may carry (as the native runner): a typo must fail, not be skipped silently.
const STEP_KEYS = new Set([
  'at',
  'wall',
  'do',
  'process_id',
  'generation',
  'text',
  'frame',
  'code',
  'reason',
  'actions',
  'events',
  'state',
  'timeout',
  'note',
  'persisted',
  'token',
  'why',
]);

function runCase(module, vcase) {
  const session = new WasmSession(module, { url: 'ws://hub.test', ...vcase.config });
  const matcher = new JsonMatcher();
  // `at` is the monotonic clock; the wall clock runs beside it until a step's `wall` moves it.
  let at = 0;
  let wallAhead = 0;
  try {
    vcase.steps.forEach((step, index) => {
      const where = `${vcase.id} step ${index} (${step.do})`;
      for (const key of Object.keys(step))
        expect(STEP_KEYS.has(key), `${where}: unknown key ${key}`).toBe(true);
      if (step.at !== undefined) at = step.at;
      if (step.wall !== undefined) wallAhead = step.wall - at;
      const call = CALLS[step.do];
      if (!call) throw new Error(`${where}: unknown step ${step.do}`);
      call(session, step, { mono: at, wall: at + wallAhead });
      const { actions, events } = session.poll();
      if ('actions' in step) {
        const why = matcher.match(step.actions, actions.map(actionForVector), '$.actions');
        expect(why, `${where}\nactual actions: ${JSON.stringify(actions)}`).toBeNull();
      }
      if ('events' in step) {
        const why = matcher.match(step.events, events, '$.events');
        expect(why, `${where}\nactual events: ${JSON.stringify(events)}`).toBeNull();
      }
      if ('state' in step) expect(session.state(), where).toBe(step.state);
      if ('timeout' in step) expect(session.timeout(), where).toBe(step.timeout);
    });
  } finally {
    session.delete();
  }
}

test('the client vectors are present', () => {
  expect(files.length, `no client-*.json in ${vectorDir}`).toBeGreaterThan(0);
});

for (const file of files) {
  const doc = JSON.parse(readFileSync(join(vectorDir, file), 'utf8'));
  describe(file, () => {
    let module;
    beforeAll(async () => {
      module = await sharedModule();
    });
    expect(doc.suite).toBe('client');
    for (const vcase of doc.cases) {
      test(`${vcase.id}: ${vcase.description}`, () => runCase(module, vcase));
    }
  });
}
