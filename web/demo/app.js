// The demo page: upload a document and follow its job, or follow any process id. Plain DOM over
// the package's ProgressClient (the React component does the same for React apps).
//
// Query parameters: ?process=<id> follows that process at once; ?server=<url> talks to another
// hub than the page's origin.
import { acquireClient, summarize } from '../src/index.js';

const params = new URLSearchParams(location.search);
const serverUrl = params.get('server') ?? location.origin;
const httpBase = serverUrl.replace(/^ws(s?):/, 'http$1:').replace(/\/+$/, '');
const client = acquireClient({ url: serverUrl });

const $ = (id) => document.getElementById(id);

// Every view the page received, kept for inspection (the end-to-end tests read it to check that
// percent never went backwards and no stage was skipped).
const history = [];
window.progressDemo = { client, history };

let current = null; // {processId, unwatch}

function follow(processId) {
  if (current?.processId === processId) return;
  current?.unwatch();
  current = { processId, unwatch: client.watch(processId) };
  $('job').hidden = false;
  $('job-id').textContent = processId;
  const url = new URL(location.href);
  url.searchParams.set('process', processId);
  history.length = 0;
  window.history.replaceState(null, '', url);
  render();
}

// A legacy-style id the page can subscribe to before the upload starts the job.
function newProcessId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const parts = [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)];
  const uuid = parts.join('-');
  return `auto_proc_${uuid}_${Math.floor(Date.now() / 1000)}`;
}

async function upload(file) {
  $('upload-error').hidden = true;
  const processId = newProcessId();
  follow(processId); // subscribe first: the first event of the job is never missed
  const body = new FormData();
  body.append('file', file);
  try {
    const response = await fetch(`${httpBase}/api/uploads?process_id=${encodeURIComponent(processId)}`, {
      method: 'POST',
      body,
    });
    if (!response.ok) {
      const text = await response.text();
      let message = `${response.status} ${response.statusText}`;
      try {
        const error = JSON.parse(text).error;
        if (error?.message) message = `${error.message} (${error.code}, HTTP ${response.status})`;
      } catch {
        // Not a JSON error body (a proxy's page): the status line says enough.
      }
      throw new Error(message);
    }
  } catch (error) {
    $('upload-error').textContent = `Upload failed: ${error.message}`;
    $('upload-error').hidden = false;
  }
}

// Everything shown comes from the core's display block (the same one the React component and
// progress-watch render).
function renderStages(stages, shown) {
  const list = $('stages');
  list.replaceChildren(
    ...stages.map((span, i) => {
      const item = document.createElement('li');
      item.dataset.stage = span.name;
      item.dataset.open = span.ended_at === undefined ? 'true' : 'false';
      item.textContent = shown[i].label;
      const duration = document.createElement('span');
      duration.className = 'duration';
      duration.textContent = shown[i].duration_text;
      item.append(duration);
      return item;
    }),
  );
}

function render() {
  const connection = client.state;
  $('connection').dataset.connection = connection;
  $('connection').textContent = client.connectionLabel;
  if (!current) return;
  const p = summarize(client.view(current.processId), connection, client.connectionLabel);
  const d = p.display;
  $('job').dataset.state = d.status;
  $('job-state').textContent = d.status_text || d.status;
  $('bar').setAttribute('aria-valuenow', String(d.percent));
  $('fill').style.width = d.percent_text;
  $('percent').textContent = d.percent_text;
  $('message').textContent = p.message || d.title;
  $('eta').textContent = d.eta_text;
  renderStages(p.stages, d.stages);
  $('job-error').hidden = !p.error;
  $('job-error').textContent = p.error ? `Error: ${p.error}` : '';
  $('result').hidden = p.result === null;
  $('result').textContent = p.result === null ? '' : JSON.stringify(p.result, null, 2);
}

client.on('progress', (view) => {
  if (view.process_id !== current?.processId) return;
  history.push({
    seq: view.seq,
    epoch: view.epoch,
    state: view.state,
    stage: view.stage,
    percent: view.percent,
    status: view.status,
    stages: view.stages.map((s) => s.name),
  });
  render();
});
client.on('state', render);
client.on('error', (error) => console.warn('progress-hub:', error));

const drop = $('drop');
drop.addEventListener('dragover', (event) => {
  event.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  drop.classList.remove('over');
  const file = event.dataTransfer?.files?.[0];
  if (file) upload(file);
});
$('file').addEventListener('change', () => {
  const file = $('file').files?.[0];
  if (file) upload(file);
  $('file').value = '';
});
$('watch-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = $('watch-id').value.trim();
  if (id) follow(id);
});

const initial = params.get('process');
if (initial !== null) follow(initial);
render();
