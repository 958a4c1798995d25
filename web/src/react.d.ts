import type { ProgressClientOptions, ProgressSummary } from './index.js';

/**
 * Live progress of one process, on useSyncExternalStore. All components on one server URL share
 * one client and socket; unmounting lingers ~3 s so StrictMode and route changes do not reconnect.
 * An empty `processId` watches nothing. `options.token` / `options.getToken` authorise it.
 */
export function useUploadProgress(
  processId: string | null | undefined,
  options?: ProgressClientOptions,
): ProgressSummary;

export interface UploadProgressProps {
  processId: string | null | undefined;
  /** Hub URL (ws/wss/http/https); default: the page's origin. */
  url?: string;
  options?: ProgressClientOptions;
  /** This process's subscription token, or a function fetching one (see ProgressClientOptions). */
  token?: string;
  getToken?: (processId: string) => Promise<string> | string;
  className?: string;
  /** Called once when the process ends (completed, failed, cancelled, or cannot be watched). */
  onDone?: (summary: ProgressSummary) => void;
}

/** Drop-in progress display: stage, bar, percent, message, ETA, connection indicator, error text. */
export function UploadProgress(props: UploadProgressProps): import('react').ReactElement;
