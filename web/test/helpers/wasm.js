// Loads the built module for tests: from $PROGRESS_WASM_DIR (toolchains/test.sh) or web/dist.
// A missing build is an error, never a skip: these tests exist to check that build.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { loadWasm } from '../../src/wasm.js';

export const wasmDir =
  process.env.PROGRESS_WASM_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');

export function wasmFiles() {
  const js = join(wasmDir, 'progress_wasm.js');
  const wasm = join(wasmDir, 'progress_wasm.wasm');
  if (!existsSync(js) || !existsSync(wasm)) {
    throw new Error(
      `no wasm build in ${wasmDir}: cmake --preset wasm && cmake --build build/wasm --target progress_wasm`,
    );
  }
  return { js, wasm };
}

/** A fresh module instance (its own heap), for tests that measure memory. */
export async function freshModule() {
  const { js, wasm } = wasmFiles();
  const factory = (await import(pathToFileURL(js).href)).default;
  return factory({ wasmBinary: readFileSync(wasm) });
}

/** The package's shared module, loaded the way ProgressClient loads it. */
export async function sharedModule() {
  const { js, wasm } = wasmFiles();
  const factory = (await import(pathToFileURL(js).href)).default;
  return loadWasm({ factory, wasmBinary: readFileSync(wasm) });
}
