// The ergonomic layer over the module's plain C exports (wasm/bindings.cpp): strings moved through
// the wasm heap as UTF-8, JSON text in and out, C++ failures turned into thrown errors, and the one
// owner of a session handle (freed by `delete()`, exactly once).

/** A C++ failure inside the wasm core (never a protocol error: those arrive as events). */
export class ProgressWasmError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ProgressWasmError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Runs `fn(pointer, length)` with `text` as UTF-8 in the wasm heap and frees it afterwards, whatever
// happens. Three bytes per UTF-16 unit is the most UTF-8 a JS string can need.
function withText(module, text, fn) {
  if (typeof text !== 'string') throw new TypeError(`progress_wasm: expected a string, got ${typeof text}`);
  const capacity = text.length * 3 + 1;
  const ptr = module._malloc(capacity);
  if (!ptr) throw new ProgressWasmError('progress_wasm: out of memory');
  try {
    const { written } = encoder.encodeInto(text, module.HEAPU8.subarray(ptr, ptr + capacity));
    return fn(ptr, written);
  } finally {
    module._free(ptr);
  }
}

// Reads and frees a NUL-terminated string the module handed over; null for a null pointer. HEAPU8 is
// looked up after the call because memory growth replaces it.
function take(module, ptr) {
  if (!ptr) return null;
  const heap = module.HEAPU8;
  const text = decoder.decode(heap.subarray(ptr, heap.indexOf(0, ptr)));
  module._free(ptr);
  return text;
}

// Calls that change the session return null or a failure message.
function check(module, failurePtr) {
  const failure = take(module, failurePtr);
  if (failure !== null) throw new ProgressWasmError(failure);
}

// Calls that return JSON report a C++ failure as "!" and the message instead.
function parsed(text) {
  if (text.startsWith('!')) throw new ProgressWasmError(text.slice(1));
  return JSON.parse(text);
}

// The core's input table (wasm/bindings.cpp kInputs), read from the module itself, so its
// numbering and arguments live in one place: "name:args" where args lists what comes before
// `now` (a, b: numbers; t: a string). snake_case names become methods (on_text -> onText).
const tables = new WeakMap();
function inputTable(module) {
  let table = tables.get(module);
  if (!table) {
    table = new Map(
      take(module, module._pw_input_names())
        .split(',')
        .map((entry, index) => {
          const [name, args] = entry.split(':');
          return [name, { index, args }];
        }),
    );
    tables.set(module, table);
  }
  return table;
}

export class WasmSession {
  /**
   * @param {object} module the loaded progress_wasm module
   * @param {object} config ClientConfig fields by their C++ names (url, backoff_min_ms, ...)
   */
  constructor(module, config) {
    this.module_ = module;
    this.inputs_ = inputTable(module);
    this.handle_ = withText(module, JSON.stringify(config), (p, n) => module._pw_session_new(p, n));
    const failure = take(module, module._pw_session_config_error(this.handle_));
    if (failure !== null) {
      this.delete();
      throw new ProgressWasmError(failure);
    }
    for (const name of this.inputs_.keys()) {
      const method = name.replace(/_(.)/g, (_, c) => c.toUpperCase());
      if (!(method in this)) this[method] = (...args) => this.input(name, ...args);
    }
  }

  // The handle, checked: a freed pointer must never reach the module.
  live_() {
    if (!this.handle_) throw new ProgressWasmError('progress_wasm: the session was deleted');
    return this.handle_;
  }

  /**
   * Feeds one input of the core's table by name, its arguments as the table lists them and
   * `now` last: subscribe(id, now), onOpen(gen, now), onText(gen, text, now),
   * onClose(gen, code, reason, now), onPageshow(persisted, now). `now` is both clocks,
   * `{ mono: performance.now(), wall: Date.now() }`: timers run on `mono`, and the two together
   * tell the session the machine slept. A host with one clock may pass one number for both.
   */
  input(name, ...args) {
    const input = this.inputs_.get(name);
    if (!input) throw new ProgressWasmError(`progress_wasm: no input ${name}`);
    const values = { a: 0, b: 0, t: '' };
    [...input.args].forEach((key, i) => {
      values[key] = key === 't' ? args[i] : Number(args[i]);
    });
    const now = args[input.args.length];
    const mono = typeof now === 'object' && now !== null ? now.mono : now;
    const wall = typeof now === 'object' && now !== null ? now.wall : now;
    const handle = this.live_();
    const m = this.module_;
    check(m, withText(m, values.t, (p, n) => m._pw_input(handle, input.index, p, n, values.a, values.b, mono, wall)));
  }

  /** @returns {{actions: object[], events: object[]}} everything queued since the last poll */
  poll() {
    return parsed(take(this.module_, this.module_._pw_poll(this.live_())));
  }

  /** @returns {number|null} when the session wants on_timer (on the `mono` clock), or null */
  timeout() {
    const at = this.module_._pw_timeout(this.live_());
    return at < 0 ? null : at;
  }

  state() {
    return take(this.module_, this.module_._pw_state(this.live_()));
  }

  view(processId) {
    const handle = this.live_();
    const m = this.module_;
    const text = take(m, withText(m, processId, (p, n) => m._pw_view(handle, p, n)));
    return text === null ? null : parsed(text);
  }

  processIds() {
    return parsed(take(this.module_, this.module_._pw_process_ids(this.live_())));
  }

  /** Frees the C++ object; the wasm heap is not garbage-collected. Idempotent. */
  delete() {
    if (this.handle_) {
      this.module_._pw_session_delete(this.handle_);
      this.handle_ = 0;
    }
  }

  get deleted() {
    return this.handle_ === 0;
  }
}

/** The core's process id rule, so a page can refuse a bad id before anything else happens. */
export function isValidProcessId(module, processId) {
  return (
    typeof processId === 'string' &&
    withText(module, processId, (p, n) => module._pw_is_valid_process_id(p, n)) === 1
  );
}

/** Decodes a server frame with the core's codec: {frame} or {error: {code, message}}. */
export function decodeServerFrame(module, text) {
  return parsed(take(module, withText(module, text, (p, n) => module._pw_decode_server_frame(p, n))));
}
