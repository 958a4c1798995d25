// What a progress UI shows for one process, as the core decided it (the view's `display` block,
// wasm core client_display.cpp) plus the connection, in the shape useUploadProgress returns.
// Shared by the React hook and the plain-DOM demo; it formats nothing itself.

// Before the core has a view (its module still loading, or no process): nothing to say yet.
const WAITING = Object.freeze({
  status: 'waiting',
  status_text: '',
  title: '',
  terminal: false,
  percent: 0,
  percent_text: '0%',
  eta_text: '',
  error_code: '',
  error_text: '',
  stages: [],
});

/**
 * @param {object|undefined} view a ProcessView from ProgressClient.view()
 * @param {string} connection the client's session state
 * @param {string} [label] what the connection indicator says (ProgressClient.connectionLabel)
 * @returns {import('./index.js').ProgressSummary}
 */
export function summarize(view, connection, label = connection) {
  const display = view?.display ?? WAITING;
  return {
    state: display.status,
    stage: view?.stage ?? '',
    percent: display.percent,
    message: view?.message ?? '',
    eta: display.eta_ms ?? null,
    error: display.error_text || null,
    connected: connection === 'live',
    connection,
    connectionLabel: label,
    stages: view?.stages ?? [],
    result: view?.result ?? null,
    view: view ?? null,
    display,
  };
}
