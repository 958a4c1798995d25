// Loads the progress_wasm module (the C++ core compiled with em++) once per page. The default
// location is the package's own dist/ folder next to src/, which is also what the server's web
// root serves; a bundler build or a test passes `factory` (the imported default export of
// progress_wasm.js) and, under Node, `wasmBinary` (the 3.1.6 web build cannot read files itself).

let loading = null;

/**
 * @param {import('./index.js').LoadWasmOptions} [options]
 * @returns {Promise<object>} the instantiated module (shared by every caller)
 */
export function loadWasm(options = {}) {
  if (!loading) {
    loading = (async () => {
      const factory =
        options.factory ??
        (
          await import(
            /* @vite-ignore */ String(
              options.moduleUrl ?? new URL('../dist/progress_wasm.js', import.meta.url),
            )
          )
        ).default;
      const settings = {};
      if (options.wasmBinary) settings.wasmBinary = options.wasmBinary;
      if (options.locateFile) settings.locateFile = options.locateFile;
      return factory(settings);
    })();
    // A failed load (404, CSP) must not poison every later attempt.
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}
