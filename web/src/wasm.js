// Loads the wasm core (the C++ core built with em++) once per page. Literal relative URLs are what
// webpack 5, Vite, Rollup and Turbopack follow with no configuration (the glue becomes a chunk and
// the .wasm an asset); served as is (the hub's web root) they point into dist/. The .wasm is
// fetched here rather than by the glue so that a failure names its URL.

let loading = null;

function wasmUrl() {
  const url = new URL('../dist/progress_wasm.wasm', import.meta.url);
  // Vite's dev server (before Vite 8) runs this file from node_modules/.vite/deps/; the package's
  // own dist/ is beside that folder.
  return url.pathname.endsWith('/node_modules/.vite/dist/progress_wasm.wasm')
    ? new URL(url.pathname.replace('/.vite/', '/progress-hub-client/'), url)
    : url;
}

async function fetchWasm(url) {
  const response = await fetch(url).catch((error) => {
    throw new Error(`cannot fetch ${url}: ${error.message}`);
  });
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  // Dev servers answer a path they lack with their index.html.
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== '\0asm')
    throw new Error(`${url} is not a wasm module (${response.headers.get('content-type')})`);
  return bytes;
}

/**
 * @param {import('./index.js').LoadWasmOptions} [options]
 * @returns {Promise<object>} the instantiated module (shared by every caller)
 */
export function loadWasm(options = {}) {
  if (!loading) {
    loading = (async () => {
      const factory =
        options.factory ??
        (options.moduleUrl
          ? await import(/* webpackIgnore: true */ /* @vite-ignore */ String(options.moduleUrl))
          : await import('../dist/progress_wasm.js')
        ).default;
      const url = wasmUrl();
      return factory({
        wasmBinary:
          options.wasmBinary ??
          (await fetchWasm(options.locateFile?.('progress_wasm.wasm', String(new URL('.', url))) ?? url)),
      });
    })();
    // A failed load (404, CSP) must not poison every later attempt.
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}
