// Types of progress-hub-client (hand-written; the runtime is plain ES modules over the wasm core).

/** Connection state of the shared session. */
export type SessionState =
  'idle' | 'connecting' | 'open' | 'live' | 'reconnecting' | 'suspended' | 'done' | 'failed' | 'stopped';

/** Lifecycle state of a process on the server. */
export type ProcessState = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

/** Where watching one process stands: `done`/`failed` are final (no more updates come). */
export type WatchStatus = 'waiting' | 'pending' | 'active' | 'done' | 'failed';

export type ErrorCode =
  | 'invalid_process_id'
  | 'bad_frame'
  | 'unknown_type'
  | 'not_found'
  | 'unauthorized'
  | 'rate_limited'
  | 'too_large'
  | 'process_finished'
  | 'invalid_update'
  | 'unavailable';

/** Why a subscription token was refused; only `expired` can be cured by a fresh token. */
export type RefusalReason = 'missing' | 'bad_signature' | 'wrong_process' | 'expired';

export interface ProtocolError {
  code: ErrorCode | 'internal';
  message: string;
  process_id?: string;
  /** Set on an `unauthorized` error: why the token was refused. */
  reason?: RefusalReason;
}

/** One stage of a job; `ended_at` is absent while the stage is running. Times: ms since epoch. */
export interface StageSpan {
  name: string;
  started_at: number;
  ended_at?: number;
}

/** Everything known about one watched process, as the wasm session keeps it. */
export interface ProcessView {
  process_id: string;
  status: WatchStatus;
  /** Changes when the server recreated the record; seq restarts with it. */
  epoch: string;
  seq: number;
  state: ProcessState;
  stage: string;
  /** 0..100, never decreasing within an epoch. */
  percent: number;
  message: string;
  /** Opaque producer data (page counts, ETA inputs). */
  data: Record<string, unknown>;
  updated_at: number;
  stages: StageSpan[];
  /** Terminal `completed` processes: what the job produced. */
  result?: unknown;
  /** Failed processes: the job's own error (a string or {code, message}). */
  error?: string | { code?: string; message?: string; [key: string]: unknown };
  /** Why watching failed (invalid id, unauthorized, not_found): not the job's error. */
  failure?: { code: ErrorCode; message: string; process_id?: string; reason?: RefusalReason };
  /** Estimated milliseconds to completion, once the observed rate allows an estimate. */
  eta_ms?: number;
  /** What a UI shows, decided by the core (never sent on the wire). */
  display: ProgressDisplay;
}

/** Options of a ProgressClient; every timing has the protocol's default. */
/** A view's display block: English texts beside codes and numbers, so an app can localise. */
export interface ProgressDisplay {
  status: ProcessState | 'waiting' | 'error';
  status_text: string;
  /** The stage's label, else status_text. */
  title: string;
  /** The watch is over (done or failed): the one terminal rule. */
  terminal: boolean;
  /** 0..100 rounded to 0.1, and as text ("42.5%"). */
  percent: number;
  percent_text: string;
  eta_ms?: number;
  /** "about 16 s left" (whole seconds rounded up), or empty. */
  eta_text: string;
  error_code: string;
  error_text: string;
  /** One per entry of the view's `stages`. */
  stages: { label: string; duration_text: string }[];
}

export interface ProgressClientOptions {
  /** Hub base URL: ws://, wss://, http:// or https:// (http maps to ws). Default: the page's origin. */
  url?: string;
  /** Reconnect delays: exponential with full jitter between these bounds (default 500 ms .. 20 s). */
  backoff?: { minMs?: number; maxMs?: number };
  /** Heartbeat assumed until the server's hello says otherwise (default 20000). */
  heartbeatMs?: number;
  /** Silence beyond heartbeat + this closes the socket as stale and reconnects (default 10000). */
  staleGraceMs?: number;
  /** An attempt that got no hello within this is abandoned (default 10000). */
  connectTimeoutMs?: number;
  /** Without a connection this long the client is `suspended` (default 120000). */
  suspendAfterMs?: number;
  /** Retry period while suspended (default 30000). */
  suspendedRetryMs?: number;
  /** Deadline of the ping probe after online/visible/wake (default 3000). */
  probeTimeoutMs?: number;
  /** A connection up this long resets the backoff (default 5000). */
  minStableMs?: number;
  /** A timer this late means the machine slept: probe the socket (default 30000). */
  clockJumpMs?: number;
  /** Jitter seed; random per client unless given (tests). */
  seed?: number;
  /** How long a released watch or an unused shared client stays up for a remount (default 3000). */
  lingerMs?: number;
  /**
   * Subscription token for a hub with a token secret: sent with every subscribe. Give it per
   * process through useUploadProgress/<UploadProgress>/watch(); on a client, it serves every watch.
   */
  token?: string;
  /**
   * Called for a fresh token before every subscribe (also after a reconnect, and once more when
   * the hub says the token expired). A rejection, or no answer within 10 s, fails the watch with
   * the error shown.
   */
  getToken?: (processId: string) => Promise<string | null> | string | null;
  /** Where the wasm core comes from (first load wins; see loadWasm). */
  wasm?: LoadWasmOptions;
  /** WebSocket constructor to use (default: globalThis.WebSocket). */
  WebSocket?: { new (url: string): WebSocket };
  /** Source of online/offline/pageshow events and `document.visibilitychange`; null: none. */
  window?: (EventTarget & { document?: Document | (EventTarget & { visibilityState: string }) }) | null;
}

export type ProgressEventMap = {
  state: SessionState;
  progress: ProcessView;
  error: ProtocolError;
  stopped: undefined;
};

/**
 * Host of one wasm ClientSession: owns the socket and the timer, feeds every browser event into
 * the session and carries out its actions. One client multiplexes any number of processes.
 */
export class ProgressClient {
  constructor(options?: ProgressClientOptions);
  /** Normalized ws(s):// base URL. */
  readonly url: string;
  /** Resolves once the wasm core is loaded and the session started. */
  readonly ready: Promise<void>;
  readonly state: SessionState;
  /** What a connection indicator says for the state ("Live", "Reconnecting…"), from the core. */
  readonly connectionLabel: string;
  /** True while the socket is up and the server's hello arrived. */
  readonly connected: boolean;
  /** Why the client cannot work at all (the wasm core failed to load; names the URL), or null. */
  readonly error: ProtocolError | null;
  /** Latest view of a watched process; the same object until it changes. */
  view(processId: string): ProcessView | undefined;
  /** Listen to client events; returns the function that removes the listener. */
  on<K extends keyof ProgressEventMap>(event: K, callback: (value: ProgressEventMap[K]) => void): () => void;
  /**
   * Watch a process until the returned function is called (holders are counted; release lingers).
   * `token`: this process's token or getToken, in place of the client's.
   */
  watch(processId: string, token?: string | ((processId: string) => Promise<string> | string)): () => void;
  /** Resolves with the final view (status `done` or `failed`); rejects if the client is stopped. */
  done(processId: string): Promise<ProcessView>;
  /** Reconnect at once with the backoff reset; works from `suspended` and `failed` too. */
  reconnect(): void;
  /** One more user of a shared client. */
  retain(): void;
  /** One user less; the last one stops the client after `lingerMs`. */
  release(): void;
  /** Close the socket, clear timers, free the wasm session. Final. */
  stop(): void;
}

/** The shared client for `options.url` (created on first use); pair with releaseClient. */
export function acquireClient(options?: ProgressClientOptions): ProgressClient;
export function releaseClient(client: ProgressClient): void;
/** The shared client of a URL if it exists, without creating one. */
export function peekClient(url?: string): ProgressClient | undefined;
/** Stop every shared client (page teardown, tests). */
export function stopAllClients(): void;
/** ws(s):// form of a hub URL (http -> ws, https -> wss, trailing slashes dropped). */
export function normalizeServerUrl(url?: string): string;

export interface LoadWasmOptions {
  /** The default export of progress_wasm.js, when the page gets it some other way. */
  factory?: (settings: { wasmBinary: ArrayBuffer | Uint8Array }) => Promise<WasmModule>;
  /** Where progress_wasm.js is (default: the package's own dist/, which bundlers follow). */
  moduleUrl?: string | URL;
  /** The .wasm bytes (under Node, where there is nothing to fetch from); nothing is fetched. */
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** Where to fetch progress_wasm.wasm from instead (a CDN); `prefix` is the default folder. */
  locateFile?: (path: string, prefix: string) => string;
}

/**
 * The loaded wasm module: plain C exports taking pointers into HEAPU8 (see wasm/bindings.cpp; use
 * WasmSession / ProgressClient instead of calling the `_pw_*` functions yourself).
 */
export interface WasmModule {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(pointer: number): void;
  /** Bytes allocated by the wasm heap's malloc (leak tests). */
  _heapInUse(): number;
  [rawExport: `_pw_${string}`]: (...args: number[]) => number;
}

/** Loads the wasm core once per page; later calls return the same module. */
export function loadWasm(options?: LoadWasmOptions): Promise<WasmModule>;

/** A C++ failure inside the wasm core (protocol errors arrive as events instead). */
export class ProgressWasmError extends Error {}

export type SessionAction =
  | { connect: { url: string; generation: number } }
  | { send: string; generation: number }
  | { close: { code: number; reason: string; generation: number } }
  | { set_timer: number | null }
  | { need_token: string };

export type SessionEvent =
  | { state: SessionState; label: string }
  | { progress: ProcessView }
  | { error: ProtocolError }
  | { removed: string };

/**
 * Both clocks, read once per input: `mono` from performance.now() runs the session's timers, and
 * `wall` from Date.now() beside it tells the session the machine slept. A host with one clock may
 * pass one number for both.
 */
export type SessionTime = number | { mono: number; wall: number };

/** The session itself, one call per input; for hosts other than ProgressClient (and tests). */
export class WasmSession {
  /** `config` uses the C++ ClientConfig names: url, backoff_min_ms, heartbeat_ms, seed, ... */
  constructor(module: WasmModule, config: Record<string, string | number>);
  start(now: SessionTime): void;
  /** Any input of the core's table by its name (wasm/bindings.cpp), `now` last. */
  input(name: string, ...args: (string | number | boolean | SessionTime)[]): void;
  watch(processId: string, now: SessionTime): void;
  release(processId: string, now: SessionTime): void;
  retain(now: SessionTime): void;
  releaseClient(now: SessionTime): void;
  onSendFailed(generation: number, now: SessionTime): void;
  onPageshow(persisted: boolean, now: SessionTime): void;
  /** The answer to a need_token action: "<process id> <token>" (an empty token: none). */
  onToken(idAndToken: string, now: SessionTime): void;
  /** The token source failed: "<process id> <why>"; the watch fails with it. */
  onTokenFailed(idAndWhy: string, now: SessionTime): void;
  subscribe(processId: string, now: SessionTime): void;
  unsubscribe(processId: string, now: SessionTime): void;
  reconnect(now: SessionTime): void;
  stop(now: SessionTime): void;
  onOpen(generation: number, now: SessionTime): void;
  onText(generation: number, text: string, now: SessionTime): void;
  onClose(generation: number, code: number, reason: string, now: SessionTime): void;
  onError(generation: number, now: SessionTime): void;
  onTimer(now: SessionTime): void;
  onOnline(now: SessionTime): void;
  onOffline(now: SessionTime): void;
  onVisible(now: SessionTime): void;
  onHidden(now: SessionTime): void;
  /** Everything queued since the last poll; carry out the actions in order. */
  poll(): { actions: SessionAction[]; events: SessionEvent[] };
  /** When the session wants onTimer, on the `mono` clock, or null. */
  timeout(): number | null;
  state(): SessionState;
  view(processId: string): ProcessView | null;
  processIds(): string[];
  /** Free the C++ object (the wasm heap is not garbage-collected). */
  delete(): void;
  readonly deleted: boolean;
}

export function isValidProcessId(module: WasmModule, processId: unknown): boolean;
export function decodeServerFrame(
  module: WasmModule,
  text: string,
): { frame: Record<string, unknown> } | { error: ProtocolError };

/** What a progress UI shows (also what useUploadProgress returns). */
export interface ProgressSummary {
  /** Process state, or `waiting` (nothing heard yet), `pending` (job not started), `error` (cannot watch). */
  state: ProcessState | 'waiting' | 'error';
  stage: string;
  percent: number;
  message: string;
  /** Milliseconds left, or null when not estimable yet. */
  eta: number | null;
  /** Readable error text: the job's error, or why the process cannot be watched. */
  error: string | null;
  connected: boolean;
  connection: SessionState;
  connectionLabel: string;
  stages: StageSpan[];
  display: ProgressDisplay;
  result: unknown;
  view: ProcessView | null;
}

export function summarize(
  view: ProcessView | undefined,
  connection: SessionState,
  label?: string,
): ProgressSummary;
