// ProgressClient: the host of one wasm ClientSession. The session decides everything (when to
// connect, what to send, backoff, heartbeats, resume, lingering watches, when a watch is over,
// what a UI says); this class is the only code in the package that touches WebSocket, timers
// and window events, and it does no more than feed them in and carry out the actions the
// session hands back. The one thing the session cannot see is its own module failing to load.
import { WasmSession } from './session.js';
import { loadWasm } from './wasm.js';

// JS option name -> ClientConfig field (wasm/bindings.cpp refuses unknown fields).
const CONFIG_FIELDS = {
  heartbeatMs: 'heartbeat_ms',
  staleGraceMs: 'stale_grace_ms',
  connectTimeoutMs: 'connect_timeout_ms',
  suspendAfterMs: 'suspend_after_ms',
  suspendedRetryMs: 'suspended_retry_ms',
  probeTimeoutMs: 'probe_timeout_ms',
  minStableMs: 'min_stable_ms',
  clockJumpMs: 'clock_jump_ms',
  lingerMs: 'linger_ms',
};

/**
 * The key the shared clients are kept under (registry.js), needed before the core is loaded:
 * the URL resolved against the page, http(s) spelled ws(s). The core's parse_server_url is the
 * authority on what is connected; web/test/progress-client.test.js checks the two agree.
 */
export function normalizeServerUrl(url) {
  const base = url ?? globalThis.location?.origin;
  if (!base) throw new TypeError('progress-hub: no server URL given and no page location to default to');
  const parsed = new URL(base, globalThis.location?.href);
  const protocol = parsed.protocol.replace(/^http/, 'ws');
  return `${protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '').replace(/\/ws\/progress$/, '')}`;
}

function sessionConfig(url, options) {
  const config = { url };
  if (options.backoff?.minMs !== undefined) config.backoff_min_ms = options.backoff.minMs;
  if (options.backoff?.maxMs !== undefined) config.backoff_max_ms = options.backoff.maxMs;
  for (const [name, field] of Object.entries(CONFIG_FIELDS)) {
    if (options[name] !== undefined) config[field] = options[name];
  }
  config.tokens = !!(options.token ?? options.getToken);
  // Jitter must differ between tabs, or every tab of a restarted server reconnects in lockstep.
  config.seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  return config;
}

const WINDOW_EVENTS = ['online', 'offline', 'pageshow'];

export class ProgressClient {
  /**
   * @param {import('./index.js').ProgressClientOptions} [options]
   */
  constructor(options = {}) {
    this.url = normalizeServerUrl(options.url);
    this.options_ = options;
    this.WebSocket_ = options.WebSocket ?? globalThis.WebSocket;
    this.window_ = options.window ?? globalThis.window;
    this.state_ = 'idle';
    this.label_ = 'Not connected';
    this.views_ = new Map(); // process id -> latest view (a new object per change)
    this.sockets_ = new Map(); // generation -> WebSocket
    this.listeners_ = new Map(); // event name -> Set of callbacks
    this.waiters_ = new Map(); // process id -> [{resolve, reject}]
    this.tokens_ = new Map(); // process id -> token or getToken
    this.queued_ = []; // inputs given before the module loaded, replayed in order
    this.timer_ = null;
    this.session_ = null;
    this.stopped_ = false;
    this.driving_ = false;
    this.error_ = null;
    this.onWindowEvent_ = (event) => this.windowEvent_(event);
    this.ready = loadWasm(options.wasm).then(
      (module) => this.attach_(module),
      (error) => this.fail_(error),
    );
  }

  /** Session state: idle, connecting, open, live, reconnecting, suspended, done, failed, stopped. */
  get state() {
    return this.state_;
  }

  /** What a connection indicator says for the state ("Live", "Reconnecting…"), from the core. */
  get connectionLabel() {
    return this.label_;
  }

  /** True while the socket is up and the server's hello arrived. */
  get connected() {
    return this.state_ === 'live';
  }

  /** Why the client cannot work at all (the wasm core failed to load), or null. */
  get error() {
    return this.error_;
  }

  /** The latest view of a watched process (the same object until it changes), or undefined. */
  view(processId) {
    let view = this.views_.get(processId);
    if (!view && this.session_) {
      // Watched but not changed yet: the core's first view (waiting) is still worth showing.
      view = this.session_.view(processId) ?? undefined;
      if (view) this.views_.set(processId, view);
    }
    return view;
  }

  /**
   * Subscribe to `state` (string), `progress` (view) or `error` ({code, message, process_id?}).
   * @returns {() => void} unsubscribes the callback
   */
  on(event, callback) {
    if (!this.listeners_.has(event)) this.listeners_.set(event, new Set());
    this.listeners_.get(event).add(callback);
    return () => this.listeners_.get(event)?.delete(callback);
  }

  /**
   * Watch a process until the returned function is called. The session counts holders; when
   * the last one lets go the subscription lingers `lingerMs` so a remount (StrictMode, route
   * change) picks it up again without a new subscribe round trip. `token`: its token or getToken.
   * @returns {() => void}
   */
  watch(processId, token) {
    if (this.stopped_) throw new Error('progress-hub: watch() on a stopped client');
    if (token) this.tokens_.set(processId, token);
    this.input_('watch', processId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.input_('release', processId);
    };
  }

  /** Resolves with the terminal view (status `done` or `failed`) of a process; watches it meanwhile. */
  done(processId) {
    const view = this.views_.get(processId);
    if (view?.display.terminal) return Promise.resolve(view);
    return new Promise((resolve, reject) => {
      const unwatch = this.watch(processId);
      const list = this.waiters_.get(processId) ?? [];
      list.push({
        resolve: (v) => {
          unwatch();
          resolve(v);
        },
        reject: (e) => {
          unwatch();
          reject(e);
        },
      });
      this.waiters_.set(processId, list);
    });
  }

  /** Reconnect now with the backoff reset (also from `suspended` and `failed`). */
  reconnect() {
    this.input_('reconnect');
  }

  /** Count one more user of a shared client (see registry.js). */
  retain() {
    this.input_('retain');
  }

  /** One user less; the session stops after `lingerMs` once the last one let go. */
  release() {
    this.input_('release_client');
  }

  /** Ends everything: no reconnect, socket closed, timers cleared, wasm memory freed. */
  stop() {
    if (this.stopped_) return;
    this.input_('stop');
    this.stopped_ = true;
    this.session_?.delete();
    this.session_ = null;
    this.queued_ = [];
    this.setTimer_(null);
    for (const [generation, socket] of this.sockets_) this.closeSocket_(generation, socket, 1000, 'stopped');
    this.detachWindow_();
    this.setState_('stopped', 'Stopped');
    for (const list of this.waiters_.values())
      for (const w of list) w.reject(new Error('progress-hub: client stopped'));
    this.waiters_.clear();
    this.emit_('stopped', undefined);
    this.listeners_.clear();
  }

  // ---- inside -------------------------------------------------------------------------------

  attach_(module) {
    if (this.stopped_) return;
    try {
      this.session_ = new WasmSession(module, sessionConfig(this.url, this.options_));
    } catch (error) {
      this.fail_(error);
      return;
    }
    this.attachWindow_();
    const queued = this.queued_;
    this.queued_ = [];
    this.input_('start');
    for (const args of queued) this.input_(...args);
  }

  // The one error the core cannot report: it never loaded.
  fail_(error) {
    this.error_ = {
      code: 'unavailable',
      message: `progress-hub: cannot load the wasm core: ${error.message}`,
    };
    this.emit_('error', this.error_);
    this.setState_('failed', 'Not connected');
  }

  // Every input to the session goes through here: call, then carry out what it asks for.
  input_(name, ...args) {
    if (this.stopped_) return;
    if (!this.session_) {
      this.queued_.push([name, ...args]);
      return;
    }
    this.session_.input(name, ...args, { mono: performance.now(), wall: Date.now() });
    this.drain_();
  }

  drain_() {
    // A callback of ours (an event listener) may feed the session again; the outer loop then
    // picks up what that produced, in order.
    if (this.driving_) return;
    this.driving_ = true;
    try {
      for (;;) {
        if (!this.session_) return;
        const { actions, events } = this.session_.poll();
        if (actions.length === 0 && events.length === 0) return;
        for (const action of actions) this.perform_(action);
        for (const event of events) this.dispatch_(event);
      }
    } finally {
      this.driving_ = false;
    }
  }

  perform_(action) {
    if (action.connect) this.connect_(action.connect.url, action.connect.generation);
    else if (action.send !== undefined) {
      const socket = this.sockets_.get(action.generation);
      // The socket may be closing before its close event arrived: the session decides.
      if (socket?.readyState === 1) socket.send(action.send);
      else this.input_('on_send_failed', action.generation);
    } else if (action.close) {
      const socket = this.sockets_.get(action.close.generation);
      if (socket) this.closeSocket_(action.close.generation, socket, action.close.code, action.close.reason);
    } else if ('set_timer' in action) this.setTimer_(action.set_timer);
    else if (action.need_token) this.token_(action.need_token);
  }

  // The answer goes back as "<id> <token or why>".
  async token_(id) {
    let token = this.tokens_.get(id) ?? this.options_.getToken ?? this.options_.token ?? '';
    try {
      if (token.call) token = await token(id);
      this.input_('on_token', `${id} ${token ?? ''}`);
    } catch (error) {
      this.input_('on_token_failed', `${id} ${error?.message ?? error}`);
    }
  }

  dispatch_(event) {
    if (event.state) {
      this.setState_(event.state, event.label);
      // The session stopped itself (the last user released it and the linger ran out).
      if (event.state === 'stopped') queueMicrotask(() => this.stop());
    } else if (event.progress) {
      const view = event.progress;
      this.views_.set(view.process_id, view);
      this.emit_('progress', view);
      if (view.display.terminal) {
        const list = this.waiters_.get(view.process_id);
        this.waiters_.delete(view.process_id);
        if (list) for (const w of list) w.resolve(view);
      }
    } else if (event.removed) this.views_.delete(event.removed);
    else if (event.error) this.emit_('error', event.error);
  }

  connect_(url, generation) {
    let socket;
    try {
      socket = new this.WebSocket_(url);
    } catch {
      // A malformed URL or a CSP refusal throws synchronously; to the session it is a failed socket.
      queueMicrotask(() => this.input_('on_error', generation));
      return;
    }
    this.sockets_.set(generation, socket);
    socket.onopen = () => this.input_('on_open', generation);
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') this.input_('on_text', generation, event.data);
      // The protocol is text only; a binary frame is the server's bug, and the session's
      // stale detection covers a server that sends nothing else.
    };
    socket.onerror = () => this.input_('on_error', generation);
    socket.onclose = (event) => {
      this.sockets_.delete(generation);
      this.input_('on_close', generation, event.code, event.reason ?? '');
    };
  }

  // The session only asks for codes and reasons a browser accepts (client_session.hpp).
  closeSocket_(generation, socket, code, reason) {
    this.sockets_.delete(generation);
    socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
    socket.close(code, reason);
  }

  setTimer_(at) {
    if (this.timer_ !== null) clearTimeout(this.timer_);
    this.timer_ = null;
    if (at === null || at === undefined || this.stopped_) return;
    this.timer_ = setTimeout(
      () => {
        this.timer_ = null;
        this.input_('on_timer');
      },
      Math.max(0, at - performance.now()),
    );
  }

  setState_(state, label) {
    if (state === this.state_) return;
    this.state_ = state;
    this.label_ = label;
    this.emit_('state', state);
  }

  emit_(name, value) {
    const set = this.listeners_.get(name);
    if (!set) return;
    for (const callback of [...set]) {
      try {
        callback(value);
      } catch (error) {
        // One broken subscriber must not stop the others or the session.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  attachWindow_() {
    const win = this.window_;
    if (!win?.addEventListener) return;
    for (const name of WINDOW_EVENTS) win.addEventListener(name, this.onWindowEvent_);
    win.document?.addEventListener('visibilitychange', this.onWindowEvent_);
  }

  detachWindow_() {
    const win = this.window_;
    if (!win?.removeEventListener) return;
    for (const name of WINDOW_EVENTS) win.removeEventListener(name, this.onWindowEvent_);
    win.document?.removeEventListener('visibilitychange', this.onWindowEvent_);
  }

  // Reports what happened; the session decides what it means.
  windowEvent_(event) {
    if (event.type === 'visibilitychange')
      this.input_(this.window_.document.visibilityState === 'hidden' ? 'on_hidden' : 'on_visible');
    else if (event.type === 'pageshow') this.input_('on_pageshow', event.persisted === true);
    else this.input_(`on_${event.type}`);
  }
}
