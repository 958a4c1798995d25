// The ergonomic layer over the embind `Session` (wasm/bindings.cpp): JSON text in and out, C++
// failures turned into thrown errors, and the one owner of the wasm object's `delete()`.

/** A C++ failure inside the wasm core (never a protocol error: those arrive as events). */
export class ProgressWasmError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ProgressWasmError';
  }
}

function check(failure) {
  if (failure) throw new ProgressWasmError(failure);
}

export class WasmSession {
  /**
   * @param {object} module the loaded progress_wasm module
   * @param {object} config ClientConfig fields by their C++ names (url, backoff_min_ms, ...)
   */
  constructor(module, config) {
    this.raw_ = new module.Session(JSON.stringify(config));
    const failure = this.raw_._configError();
    if (failure) {
      this.raw_.delete();
      this.raw_ = null;
      throw new ProgressWasmError(failure);
    }
  }

  start(now) {
    check(this.raw_._start(now));
  }
  subscribe(processId, now) {
    check(this.raw_._subscribe(processId, now));
  }
  unsubscribe(processId, now) {
    check(this.raw_._unsubscribe(processId, now));
  }
  reconnect(now) {
    check(this.raw_._reconnect(now));
  }
  stop(now) {
    check(this.raw_._stop(now));
  }
  onOpen(generation, now) {
    check(this.raw_._onOpen(generation, now));
  }
  onText(generation, text, now) {
    check(this.raw_._onText(generation, text, now));
  }
  onClose(generation, code, reason, now) {
    check(this.raw_._onClose(generation, code, reason, now));
  }
  onError(generation, now) {
    check(this.raw_._onError(generation, now));
  }
  onTimer(now) {
    check(this.raw_._onTimer(now));
  }
  onOnline(now) {
    check(this.raw_._onOnline(now));
  }
  onOffline(now) {
    check(this.raw_._onOffline(now));
  }
  onVisible(now) {
    check(this.raw_._onVisible(now));
  }
  onHidden(now) {
    check(this.raw_._onHidden(now));
  }

  /** @returns {{actions: object[], events: object[]}} everything queued since the last poll */
  poll() {
    const out = JSON.parse(this.raw_._poll());
    if (out.failure) throw new ProgressWasmError(out.failure);
    return out;
  }

  /** @returns {number|null} when the session wants on_timer, or null */
  timeout() {
    const at = this.raw_._timeout();
    return at < 0 ? null : at;
  }

  state() {
    return this.raw_._state();
  }

  view(processId) {
    const text = this.raw_._view(processId);
    return text ? JSON.parse(text) : null;
  }

  processIds() {
    return JSON.parse(this.raw_._processIds());
  }

  /** Frees the C++ object; the wasm heap is not garbage-collected. Idempotent. */
  delete() {
    if (this.raw_) {
      this.raw_.delete();
      this.raw_ = null;
    }
  }

  get deleted() {
    return this.raw_ === null;
  }
}

/** The core's process id rule, so a page can refuse a bad id before anything else happens. */
export function isValidProcessId(module, processId) {
  return typeof processId === 'string' && module._isValidProcessId(processId);
}

/** Decodes a server frame with the core's codec: {frame} or {error: {code, message}}. */
export function decodeServerFrame(module, text) {
  return JSON.parse(module._decodeServerFrame(text));
}
