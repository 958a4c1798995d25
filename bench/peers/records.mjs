// The state both Node peers keep: per process the last publish and its seq, so a subscriber gets a
// snapshot (or `pending`) first, like the hub, and forwards carry `data` unchanged. With `fullView`
// (`--full-view`) a progress frame also carries what the hub's protocol event does (epoch, stage,
// message, percent, ts), in the hub's key order, so both servers write frames of the same size.
const terminal = new Set(["completed", "failed", "cancelled"]);

export class Records {
  constructor({ fullView = false } = {}) {
    this.byId = new Map();
    this.fullView = fullView;
  }

  // Returns {frames, ack} for one inbound publish text: `progress` is the frame for subscribers
  // (null when refused), `reply` the ack or error for the publisher (null when no id and no error).
  publish(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return { progress: null, reply: error("bad_frame", "not JSON") };
    }
    if (typeof msg !== "object" || msg === null || msg.type !== "publish") {
      return { progress: null, reply: error("unknown_type", "only publish frames are accepted here") };
    }
    const id = msg.process_id;
    if (typeof id !== "string" || !/^[A-Za-z0-9._:-]{1,128}$/.test(id)) {
      return { progress: null, reply: error("invalid_process_id", "process_id must match [A-Za-z0-9._:-]{1,128}") };
    }
    let rec = this.byId.get(id);
    if (!rec) {
      const epoch = Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, "0");
      rec = { seq: 0, state: "pending", data: {}, epoch, stage: "", message: "", percent: 0 };
      this.byId.set(id, rec);
    }
    if (terminal.has(rec.state)) {
      return { progress: null, reply: error("process_finished", `process ${id} has finished`, id, msg.id) };
    }
    rec.seq += 1;
    rec.state = typeof msg.state === "string" ? msg.state : "running";
    if (msg.data !== undefined) rec.data = msg.data;
    if (msg.result !== undefined) rec.result = msg.result;
    if (typeof msg.stage === "string") rec.stage = msg.stage;
    if (typeof msg.message === "string") rec.message = msg.message;
    if (typeof msg.percent === "number") rec.percent = msg.percent;
    const progress = JSON.stringify(this.fullView ? {
      data: rec.data, epoch: rec.epoch, message: rec.message, percent: rec.percent, process_id: id,
      ...(rec.result ? { result: rec.result } : {}), seq: rec.seq, stage: rec.stage, state: rec.state, ts: Date.now(),
      type: "progress",
    } : {
      type: "progress", process_id: id, seq: rec.seq, state: rec.state, data: rec.data, ...(rec.result ? { result: rec.result } : {}),
    });
    const reply = typeof msg.id === "string" ? JSON.stringify({ type: "ack", id: msg.id, process_id: id, seq: rec.seq }) : null;
    return { id, progress, reply };
  }

  firstFrame(id) {
    const rec = this.byId.get(id);
    if (!rec) return JSON.stringify({ type: "pending", process_id: id });
    return JSON.stringify({
      type: "snapshot", process_id: id, seq: rec.seq, state: rec.state, data: rec.data, ...(rec.result ? { result: rec.result } : {}),
    });
  }
}

function error(code, message, processId, id) {
  return JSON.stringify({
    type: "error", code, message, ...(processId ? { process_id: processId } : {}), ...(typeof id === "string" ? { id } : {}),
  });
}

export const hello = JSON.stringify({ type: "hello", protocol: 1, heartbeat_ms: 20000, server: "bench-peer" });

export function listenArgs(argv) {
  const i = argv.indexOf("--listen");
  const [host, port] = (i >= 0 ? argv[i + 1] : "127.0.0.1:0").split(":");
  return { host, port: Number(port) };
}
