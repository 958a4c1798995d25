// Reference peer: Node `ws` with the hub's two hot endpoints. Prints `listening on HOST:PORT`.
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import { Records, hello, listenArgs } from "./records.mjs";

const { host, port } = listenArgs(process.argv);
const records = new Records({ fullView: process.argv.includes("--full-view") });
const subscribers = new Map(); // process id -> Set of sockets
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
const server = createServer((req, res) => {
  res.writeHead(404, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { code: "not_found", message: "WebSocket endpoints only" } }));
});

server.on("upgrade", (req, socket, head) => {
  const path = req.url.split("?")[0];
  const sub = path.match(/^\/ws\/progress\/([A-Za-z0-9._:-]{1,128})$/);
  if (path !== "/ws/publish" && !sub) {
    const body = JSON.stringify({ error: { code: "not_found", message: "no such WebSocket endpoint" } });
    socket.end(`HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.send(hello);
    if (sub) {
      const id = sub[1];
      let set = subscribers.get(id);
      if (!set) subscribers.set(id, (set = new Set()));
      set.add(ws);
      ws.send(records.firstFrame(id));
      ws.on("close", () => set.delete(ws));
      ws.on("message", () => {}); // pongs and subscribes are not part of the measured path
    } else {
      ws.on("message", (data, isBinary) => {
        if (isBinary) return ws.close(1003);
        const { id, progress, reply } = records.publish(data.toString());
        if (progress) for (const s of subscribers.get(id) ?? []) s.send(progress);
        if (reply) ws.send(reply);
      });
    }
  });
});

server.listen(port, host, () => console.log(`listening on ${host}:${server.address().port}`));
