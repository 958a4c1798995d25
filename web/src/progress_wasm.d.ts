// Types of dist/progress_wasm.js, the Emscripten glue of the wasm core (loadWasm's `factory`).
import type { WasmModule } from './index.js';

/** Instantiates one module (its own heap) from the .wasm bytes; loadWasm shares one per page. */
export default function createProgressWasm(settings: { wasmBinary: ArrayBuffer | Uint8Array }): Promise<WasmModule>;
