'use client';
// React bindings: useUploadProgress (useSyncExternalStore over the shared ProgressClient) and the
// drop-in <UploadProgress processId=... /> for the legacy UploadProgress.js component.
import * as React from 'react';

import { acquireClient, peekClient, releaseClient } from './registry.js';
import { summarize } from './summary.js';

const h = React.createElement;
const IDLE = Object.freeze(summarize(undefined, 'idle', ''));

/**
 * Live progress of one process. Every component of the page shares one socket per server URL.
 * @param {string|null|undefined} processId nothing is watched while it is empty
 * @param {import('./index.js').ProgressClientOptions} [options]
 */
export function useUploadProgress(processId, options = {}) {
  const url = options.url;
  // The first render's options configure the shared client; keep them without resubscribing on
  // every render (callers usually pass an inline object).
  const optionsRef = React.useRef(options);
  optionsRef.current = options;
  const cache = React.useRef(null);

  const subscribe = React.useCallback(
    (onChange) => {
      if (!processId) return () => {};
      const client = acquireClient(optionsRef.current);
      const { token, getToken } = optionsRef.current;
      const unwatch = client.watch(processId, getToken ?? token);
      const offProgress = client.on('progress', (view) => {
        if (view.process_id === processId) onChange();
      });
      const offState = client.on('state', onChange);
      onChange(); // the view may have arrived between render and subscribe
      return () => {
        offProgress();
        offState();
        unwatch();
        releaseClient(client);
      };
    },
    [processId, url],
  );

  const getSnapshot = () => {
    if (!processId) return IDLE;
    const client = peekClient(url);
    const view = client?.view(processId);
    const connection = client?.state ?? 'idle';
    const last = cache.current;
    if (last && last.view === view && last.connection === connection && last.processId === processId)
      return last.value;
    const value = summarize(view, connection, client?.connectionLabel ?? '');
    // A client without its wasm core (the state became `failed`) never hears of the process.
    if (client?.error) Object.assign(value, { state: 'error', error: client.error.message });
    cache.current = { view, connection, processId, value };
    return value;
  };

  return React.useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}

/**
 * Drop-in progress display: stage, bar, message, ETA, connection indicator and error text.
 * Props: processId, url, options (ProgressClientOptions), token, getToken, className, onDone(summary).
 */
export function UploadProgress({ processId, url, options, token, getToken, className, onDone }) {
  const progress = useUploadProgress(processId, { token, getToken, ...options, url: url ?? options?.url });
  const { display } = progress;
  const terminal = display.terminal;
  const onDoneRef = React.useRef(onDone);
  onDoneRef.current = onDone;
  React.useEffect(() => {
    if (terminal) onDoneRef.current?.(progress);
    // Once per process reaching its end, not per render.
  }, [terminal, processId]); // eslint-disable-line react-hooks/exhaustive-deps

  return h(
    'div',
    {
      className: ['progress-hub', className].filter(Boolean).join(' '),
      'data-state': progress.state,
      'data-connection': progress.connection,
    },
    h(
      'div',
      { className: 'progress-hub__header' },
      h('span', { className: 'progress-hub__stage' }, display.title),
      h(
        'span',
        {
          className: 'progress-hub__connection',
          'data-connected': progress.connected ? 'true' : 'false',
          title: `connection: ${progress.connection}`,
        },
        progress.connectionLabel,
      ),
    ),
    h(
      'div',
      {
        className: 'progress-hub__bar',
        role: 'progressbar',
        'aria-valuemin': 0,
        'aria-valuemax': 100,
        'aria-valuenow': display.percent,
      },
      h('div', { className: 'progress-hub__fill', style: { width: display.percent_text } }),
    ),
    h(
      'div',
      { className: 'progress-hub__status' },
      h('span', { className: 'progress-hub__percent' }, display.percent_text),
      progress.message ? h('span', { className: 'progress-hub__message' }, progress.message) : null,
      display.eta_text ? h('span', { className: 'progress-hub__eta' }, display.eta_text) : null,
      terminal && display.status !== 'error'
        ? h('span', { className: 'progress-hub__final' }, display.status_text)
        : null,
    ),
    progress.error ? h('div', { className: 'progress-hub__error', role: 'alert' }, progress.error) : null,
  );
}
