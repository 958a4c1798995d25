// A user's Vite app: the package's component and hook with no loadWasm call and no Vite config.
// The page follows ?process=ID on the hub at ?hub=URL (default: the page's own origin).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { ProgressSummary } from 'progress-hub-client';
import { UploadProgress, useUploadProgress } from 'progress-hub-client/react';
import 'progress-hub-client/style.css';

const params = new URLSearchParams(window.location.search);
const processId = params.get('process') ?? '';
const hub = params.get('hub') ?? undefined;

function Status({ progress }: { progress: ProgressSummary }) {
  return (
    <p id="status" data-state={progress.state}>
      {progress.display.title} {progress.display.percent_text} {progress.error ?? ''}
    </p>
  );
}

function App() {
  const progress = useUploadProgress(processId, { url: hub });
  return (
    <main>
      <UploadProgress processId={processId} url={hub} />
      <Status progress={progress} />
    </main>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
