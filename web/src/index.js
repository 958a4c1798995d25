// progress-hub-client: live progress of server jobs, driven by the progress-hub wasm core.
// React bindings live in 'progress-hub-client/react' so this entry has no React dependency.
export { ProgressClient, normalizeServerUrl } from './progress-client.js';
export { acquireClient, releaseClient, peekClient, stopAllClients } from './registry.js';
export { loadWasm } from './wasm.js';
export { WasmSession, ProgressWasmError, isValidProcessId, decodeServerFrame } from './session.js';
export { summarize } from './summary.js';
