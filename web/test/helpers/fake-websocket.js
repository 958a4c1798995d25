// A WebSocket stand-in the test drives by hand: it records what the client sends and closes,
// and the test decides when the server opens, speaks or drops the connection.
export class FakeWebSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  static instances = [];

  static reset() {
    FakeWebSocket.instances = [];
  }

  /** Sockets the client has not closed and the server has not dropped. */
  static live() {
    return FakeWebSocket.instances.filter((s) => s.readyState < FakeWebSocket.CLOSING);
  }

  static last() {
    return FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
  }

  constructor(url) {
    this.url = url;
    this.readyState = FakeWebSocket.CONNECTING;
    this.sent = [];
    this.closedWith = null;
    this.onopen = this.onmessage = this.onerror = this.onclose = null;
    FakeWebSocket.instances.push(this);
  }

  send(text) {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(text));
  }

  close(code = 1000, reason = '') {
    if (code !== 1000 && (code < 3000 || code > 4999))
      throw new Error(`InvalidAccessError: close code ${code}`);
    this.closedWith = { code, reason };
    this.readyState = FakeWebSocket.CLOSED;
  }

  // ---- the server side, driven by the test ----
  open() {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.({ type: 'open' });
  }

  receive(frame) {
    this.onmessage?.({ type: 'message', data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  hello(heartbeatMs = 20000) {
    this.receive({ type: 'hello', protocol: 1, heartbeat_ms: heartbeatMs, server: 'fake' });
  }

  drop(code = 1006, reason = '') {
    this.readyState = FakeWebSocket.CLOSED;
    this.onerror?.({ type: 'error' });
    this.onclose?.({ type: 'close', code, reason, wasClean: false });
  }

  sentOfType(type) {
    return this.sent.filter((f) => f.type === type);
  }
}

export function snapshotFrame(id, fields = {}) {
  return {
    type: 'snapshot',
    process_id: id,
    epoch: 'e0000001',
    seq: 1,
    state: 'running',
    stage: 'upload_received',
    percent: 5,
    message: '',
    data: {},
    updated_at: Date.now(),
    stages: [{ name: 'upload_received', started_at: Date.now() }],
    ...fields,
  };
}

export function progressFrame(id, seq, fields = {}) {
  return {
    type: 'progress',
    process_id: id,
    epoch: 'e0000001',
    seq,
    state: 'running',
    stage: 'upload_received',
    percent: 5,
    message: '',
    data: {},
    ts: Date.now(),
    ...fields,
  };
}
