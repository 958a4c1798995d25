// Reference peer: uWebSockets.js. The native addon is loaded directly so a missing binary fails
// loudly instead of falling back to the package's pure-JS implementation.
import { createRequire } from "node:module";
import { Records, hello, listenArgs } from "./records.mjs";

const require = createRequire(import.meta.url);
const uWS = require(`@trufflesuite/uws-js-unofficial/dist/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
const { host, port } = listenArgs(process.argv);
const records = new Records({ fullView: process.argv.includes("--full-view") });
const decoder = new TextDecoder();

const app = uWS.App();
app.ws("/ws/progress/:id", {
  compression: uWS.DISABLED,
  maxPayloadLength: 64 * 1024,
  idleTimeout: 0,
  upgrade: (res, req, context) => {
    const id = req.getParameter(0);
    if (!/^[A-Za-z0-9._:-]{1,128}$/.test(id)) {
      res.writeStatus("400 Bad Request").writeHeader("content-type", "application/json")
        .end(JSON.stringify({ error: { code: "invalid_process_id", message: "bad process id" } }));
      return;
    }
    res.upgrade({ id }, req.getHeader("sec-websocket-key"), req.getHeader("sec-websocket-protocol"),
      req.getHeader("sec-websocket-extensions"), context);
  },
  open: (ws) => {
    const id = ws.getUserData().id;
    ws.send(hello);
    ws.send(records.firstFrame(id));
    ws.subscribe(id);
  },
  message: () => {},
});
app.ws("/ws/publish", {
  compression: uWS.DISABLED,
  maxPayloadLength: 64 * 1024,
  idleTimeout: 0,
  open: (ws) => ws.send(hello),
  message: (ws, message, isBinary) => {
    if (isBinary) return ws.end(1003);
    const { id, progress, reply } = records.publish(decoder.decode(message));
    if (progress) app.publish(id, progress);
    if (reply) ws.send(reply);
  },
});
app.any("/*", (res) => {
  res.writeStatus("404 Not Found").writeHeader("content-type", "application/json")
    .end(JSON.stringify({ error: { code: "not_found", message: "WebSocket endpoints only" } }));
});
app.listen(host, port, (token) => {
  if (!token) {
    console.error(`cannot listen on ${host}:${port}`);
    process.exit(1);
  }
  console.log(`listening on ${host}:${uWS.us_socket_local_port(token)}`);
});
