// One shared ProgressClient (one multiplexed socket) per server URL for every component of a
// page. acquire/release count users; the client lingers after the last release (see
// ProgressClient.release) so StrictMode's double mount or a route change does not reconnect.
import { normalizeServerUrl, ProgressClient } from './progress-client.js';

const clients = new Map(); // normalized URL -> ProgressClient

/**
 * @param {import('./index.js').ProgressClientOptions} [options] the first acquirer's options
 *   configure the shared client; later ones only pick it by URL
 * @returns {ProgressClient} call releaseClient(client) when done with it
 */
export function acquireClient(options = {}) {
  const url = normalizeServerUrl(options.url);
  let client = clients.get(url);
  if (!client || client.state === 'stopped') {
    client = new ProgressClient({ ...options, url });
    clients.set(url, client);
    const created = client;
    created.on('stopped', () => {
      if (clients.get(url) === created) clients.delete(url);
    });
  }
  client.retain();
  return client;
}

export function releaseClient(client) {
  client.release();
}

/** The shared client for a URL if one exists (no side effects; safe during React render). */
export function peekClient(url) {
  try {
    return clients.get(normalizeServerUrl(url));
  } catch {
    return undefined;
  }
}

/** Stops every shared client at once (page teardown, tests). */
export function stopAllClients() {
  for (const client of [...clients.values()]) client.stop();
  clients.clear();
}
