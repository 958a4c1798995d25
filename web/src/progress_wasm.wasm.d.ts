// dist/progress_wasm.wasm is exported so tools can find the file (import.meta.resolve,
// require.resolve) to host it themselves; it is not a JavaScript module.
export {};
