// Type-checked only (nothing imports it): every subpath of the package's exports has types.
import type { LoadWasmOptions, ProgressClient, WasmModule } from 'progress-hub-client';
import type createProgressWasm from 'progress-hub-client/dist/progress_wasm.js';
import type * as wasmFile from 'progress-hub-client/dist/progress_wasm.wasm';
import type { UploadProgressProps } from 'progress-hub-client/react';
import type * as style from 'progress-hub-client/style.css';

export type Hosting = LoadWasmOptions & { factory?: typeof createProgressWasm };
export type Loaded = Promise<WasmModule>;
export type ClientError = ProgressClient['error'];
export type Props = UploadProgressProps;
export type Files = [typeof wasmFile, typeof style];
