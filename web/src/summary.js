// What a progress UI shows, derived from a session view and the connection state. Shared by the
// React hook and the plain-DOM demo so both say the same thing for the same view.

/** "text_extraction" -> "Text extraction". */
export function stageLabel(stage) {
  if (!stage) return '';
  const words = String(stage).replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function errorText(error) {
  if (error === undefined || error === null) return null;
  if (typeof error === 'string') return error;
  if (typeof error.message === 'string')
    return error.code ? `${error.message} (${error.code})` : error.message;
  return JSON.stringify(error);
}

/**
 * @param {object|undefined} view a ProcessView from ProgressClient.view()
 * @param {string} connection the client's session state
 * @returns {import('./index.js').ProgressSummary}
 */
export function summarize(view, connection) {
  const connected = connection === 'live';
  if (!view) {
    return {
      state: 'waiting',
      stage: '',
      percent: 0,
      message: '',
      eta: null,
      error: null,
      connected,
      connection,
      stages: [],
      result: null,
      view: null,
    };
  }
  let state = view.state;
  if (view.failure) state = 'error';
  else if (view.status === 'waiting') state = 'waiting';
  else if (view.status === 'pending') state = 'pending';
  return {
    state,
    stage: view.stage,
    percent: view.percent,
    message: view.message,
    eta: view.eta_ms ?? null,
    error: view.failure ? errorText(view.failure) : errorText(view.error),
    connected,
    connection,
    stages: view.stages,
    result: view.result ?? null,
    view,
  };
}

/** "1 min 5 s", "12 s", "0.4 s" */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

// What a connection indicator says for each session state.
export const CONNECTION_TEXT = Object.freeze({
  idle: 'Not connected',
  connecting: 'Connecting…',
  open: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  suspended: 'Offline, retrying',
  done: 'Finished',
  failed: 'Not connected',
  stopped: 'Stopped',
});
