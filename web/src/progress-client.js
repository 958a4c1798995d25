// ProgressClient: the host of one wasm ClientSession. The session decides everything (when to
// connect, what to send, backoff, heartbeats, resume, when a watch is over); this class is the
// only code in the package that touches WebSocket, timers and window events, and it does no
// more than feed them in and carry out the actions the session hands back.
import { WasmSession } from './session.js';
import { loadWasm } from './wasm.js';

const DEFAULT_LINGER_MS = 3000;

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
};

/** ws(s):// base URL of the hub: accepts ws, wss, http, https; defaults to the page's origin. */
export function normalizeServerUrl(url) {
  const base = url ?? globalThis.location?.origin;
  if (!base) throw new TypeError('progress-hub: no server URL given and no page location to default to');
  const parsed = new URL(base, globalThis.location?.href);
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  else if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new TypeError(`progress-hub: unsupported server URL ${base}`);
  }
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
}

function sessionConfig(url, options) {
  const config = { url };
  if (options.backoff?.minMs !== undefined) config.backoff_min_ms = options.backoff.minMs;
  if (options.backoff?.maxMs !== undefined) config.backoff_max_ms = options.backoff.maxMs;
  for (const [name, field] of Object.entries(CONFIG_FIELDS)) {
    if (options[name] !== undefined) config[field] = options[name];
  }
  // Jitter must differ between tabs, or every tab of a restarted server reconnects in lockstep.
  config.seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  return config;
}

const TERMINAL_STATUS = new Set(['done', 'failed']);

export class ProgressClient {
  /**
   * @param {import('./index.js').ProgressClientOptions} [options]
   */
  constructor(options = {}) {
    this.url = normalizeServerUrl(options.url);
    this.options_ = options;
    this.lingerMs_ = options.lingerMs ?? DEFAULT_LINGER_MS;
    this.WebSocket_ = options.WebSocket ?? globalThis.WebSocket;
    this.window_ = options.window ?? globalThis.window;
    this.state_ = 'idle';
    this.views_ = new Map(); // process id -> latest view (a new object per change)
    this.watchers_ = new Map(); // process id -> count of watch() holders
    this.lingering_ = new Map(); // process id -> timer of a delayed unsubscribe
    this.sockets_ = new Map(); // generation -> WebSocket
    this.listeners_ = new Map(); // event name -> Set of callbacks
    this.waiters_ = new Map(); // process id -> [{resolve, reject}]
    this.timer_ = null;
    this.session_ = null;
    this.stopped_ = false;
    this.driving_ = false;
    this.refs_ = 0;
    this.releaseTimer_ = null;
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
    return this.views_.get(processId);
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
   * Watch a process until the returned function is called. Holders are counted; when the last
   * one lets go the subscription lingers `lingerMs` so a remount (StrictMode, route change)
   * picks it up again without a new subscribe round trip.
   * @returns {() => void}
   */
  watch(processId) {
    if (this.stopped_) throw new Error('progress-hub: watch() on a stopped client');
    const lingering = this.lingering_.get(processId);
    if (lingering !== undefined) {
      clearTimeout(lingering);
      this.lingering_.delete(processId);
    }
    const holders = this.watchers_.get(processId) ?? 0;
    this.watchers_.set(processId, holders + 1);
    if (holders === 0 && lingering === undefined) this.input_((s, now) => s.subscribe(processId, now));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.unwatch_(processId);
    };
  }

  /** Resolves with the terminal view (status `done` or `failed`) of a process; watches it meanwhile. */
  done(processId) {
    const view = this.views_.get(processId);
    if (view && TERMINAL_STATUS.has(view.status)) return Promise.resolve(view);
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
    this.input_((s, now) => s.reconnect(now));
  }

  /** Count one more user of a shared client (see registry.js). */
  retain() {
    this.refs_ += 1;
    if (this.releaseTimer_ !== null) {
      clearTimeout(this.releaseTimer_);
      this.releaseTimer_ = null;
    }
  }

  /** One user less; the last release stops the client after `lingerMs` unless retained again. */
  release() {
    this.refs_ = Math.max(0, this.refs_ - 1);
    if (this.refs_ > 0 || this.stopped_ || this.releaseTimer_ !== null) return;
    this.releaseTimer_ = setTimeout(() => {
      this.releaseTimer_ = null;
      if (this.refs_ === 0) this.stop();
    }, this.lingerMs_);
  }

  /** Ends everything: no reconnect, socket closed, timers cleared, wasm memory freed. */
  stop() {
    if (this.stopped_) return;
    this.stopped_ = true;
    if (this.session_) {
      this.input_((s, now) => s.stop(now));
      this.session_.delete();
      this.session_ = null;
    }
    for (const timer of this.lingering_.values()) clearTimeout(timer);
    this.lingering_.clear();
    if (this.releaseTimer_ !== null) clearTimeout(this.releaseTimer_);
    this.releaseTimer_ = null;
    this.setTimer_(null);
    for (const [generation, socket] of this.sockets_) this.closeSocket_(generation, socket, 1000, 'stopped');
    this.detachWindow_();
    this.setState_('stopped');
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
    this.input_((s, now) => {
      s.start(now);
      for (const processId of this.watchers_.keys()) s.subscribe(processId, now);
      for (const processId of this.lingering_.keys()) s.subscribe(processId, now);
    });
  }

  fail_(error) {
    this.error_ = {
      code: 'unavailable',
      message: `progress-hub: cannot load the wasm core: ${error.message}`,
    };
    this.emit_('error', this.error_);
    this.setState_('failed');
  }

  unwatch_(processId) {
    const holders = (this.watchers_.get(processId) ?? 1) - 1;
    if (holders > 0) {
      this.watchers_.set(processId, holders);
      return;
    }
    this.watchers_.delete(processId);
    if (this.stopped_) return;
    this.lingering_.set(
      processId,
      setTimeout(() => {
        this.lingering_.delete(processId);
        this.views_.delete(processId);
        this.input_((s, now) => s.unsubscribe(processId, now));
      }, this.lingerMs_),
    );
  }

  // Every input to the session goes through here: call, then carry out what it asks for.
  input_(call) {
    if (!this.session_) return; // before the module loaded: attach_ replays watches
    try {
      call(this.session_, Date.now());
      this.drain_();
    } catch (error) {
      this.emit_('error', { code: 'internal', message: error.message });
    }
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
      if (socket && socket.readyState === 1) socket.send(action.send);
    } else if (action.close) {
      const socket = this.sockets_.get(action.close.generation);
      if (socket) this.closeSocket_(action.close.generation, socket, action.close.code, action.close.reason);
    } else if ('set_timer' in action) this.setTimer_(action.set_timer);
  }

  dispatch_(event) {
    if (event.state) this.setState_(event.state);
    else if (event.progress) {
      const view = event.progress;
      this.views_.set(view.process_id, view);
      this.emit_('progress', view);
      if (TERMINAL_STATUS.has(view.status)) {
        const list = this.waiters_.get(view.process_id);
        this.waiters_.delete(view.process_id);
        if (list) for (const w of list) w.resolve(view);
      }
    } else if (event.error) this.emit_('error', event.error);
  }

  connect_(url, generation) {
    let socket;
    try {
      socket = new this.WebSocket_(url);
    } catch (error) {
      // A malformed URL or a CSP refusal throws synchronously; to the session it is a failed socket.
      queueMicrotask(() => this.input_((s, now) => s.onError(generation, now)));
      return;
    }
    this.sockets_.set(generation, socket);
    socket.onopen = () => this.input_((s, now) => s.onOpen(generation, now));
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') this.input_((s, now) => s.onText(generation, event.data, now));
      // The protocol is text only; a binary frame is the server's bug, and the session's
      // stale detection covers a server that sends nothing else.
    };
    socket.onerror = () => this.input_((s, now) => s.onError(generation, now));
    socket.onclose = (event) => {
      this.sockets_.delete(generation);
      this.input_((s, now) => s.onClose(generation, event.code, event.reason ?? '', now));
    };
  }

  closeSocket_(generation, socket, code, reason) {
    this.sockets_.delete(generation);
    socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
    // Browsers accept only 1000 and 3000-4999 from a page, and at most 123 bytes of reason.
    const allowed = code === 1000 || (code >= 3000 && code <= 4999);
    try {
      socket.close(allowed ? code : 1000, String(reason ?? '').slice(0, 120));
    } catch {
      socket.close();
    }
  }

  setTimer_(at) {
    if (this.timer_ !== null) clearTimeout(this.timer_);
    this.timer_ = null;
    if (at === null || at === undefined || this.stopped_) return;
    this.timer_ = setTimeout(
      () => {
        this.timer_ = null;
        this.input_((s, now) => s.onTimer(now));
      },
      Math.max(0, at - Date.now()),
    );
  }

  setState_(state) {
    if (state === this.state_) return;
    this.state_ = state;
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
    for (const name of ['online', 'offline', 'pageshow']) win.addEventListener(name, this.onWindowEvent_);
    win.document?.addEventListener('visibilitychange', this.onWindowEvent_);
  }

  detachWindow_() {
    const win = this.window_;
    if (!win?.removeEventListener) return;
    for (const name of ['online', 'offline', 'pageshow']) win.removeEventListener(name, this.onWindowEvent_);
    win.document?.removeEventListener('visibilitychange', this.onWindowEvent_);
  }

  windowEvent_(event) {
    switch (event.type) {
      case 'online':
        this.input_((s, now) => s.onOnline(now));
        break;
      case 'offline':
        this.input_((s, now) => s.onOffline(now));
        break;
      case 'visibilitychange':
        if (this.window_.document.visibilityState === 'hidden') this.input_((s, now) => s.onHidden(now));
        else this.input_((s, now) => s.onVisible(now));
        break;
      case 'pageshow':
        // Restored from the back/forward cache: the old socket is gone, start over at once.
        if (event.persisted) this.input_((s, now) => s.reconnect(now));
        break;
      default:
        break;
    }
  }
}
