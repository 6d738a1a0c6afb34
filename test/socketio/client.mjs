// One socket.io-client v4 connection, driven by the realtime service's Go
// tests: what happens on the socket is printed as one JSON object a line
// on stdout; commands come as one JSON object a line on stdin.
//
// Options (JSON in the first argument):
//   url         the service's origin
//   token       the access token
//   tokenIn     where the token goes: "auth" (as the original's README
//               shows), "query" or "header"
//   transports  e.g. ["polling"], ["websocket"]; default both, polling first
//   upgrade     false keeps polling (default true)
// Printed: {on: "connect", id, transport} | {on: "upgrade", transport} |
//   {on: "connect_error", message, data} | {on: "event", name, data} |
//   {on: "ack", name, args} | {on: "disconnect", reason}
// Commands: {emit: NAME, data?, ack?: true} | {close: true}
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const opts = JSON.parse(process.argv[2]);
const print = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const clientOpts = {
  transports: opts.transports ?? ["polling", "websocket"],
  upgrade: opts.upgrade ?? true,
  reconnection: opts.reconnection ?? false,
  timeout: 10000,
};
switch (opts.tokenIn ?? "auth") {
  case "auth":
    clientOpts.auth = { token: opts.token };
    break;
  case "query":
    clientOpts.query = { token: opts.token };
    break;
  case "header":
    clientOpts.extraHeaders = { Authorization: `Bearer ${opts.token}` };
    break;
}

const socket = io(opts.url, clientOpts);
const engine = () => socket.io.engine;

// The upgrade may come before or after the Socket.IO connect.
socket.io.on("open", () => engine().on("upgrade", (t) => print({ on: "upgrade", transport: t.name })));
socket.on("connect", () => print({ on: "connect", id: socket.id, transport: engine().transport.name }));
socket.on("connect_error", (err) => print({ on: "connect_error", message: err.message, data: err.data ?? null }));
socket.on("disconnect", (reason) => print({ on: "disconnect", reason }));
socket.onAny((name, ...args) => print({ on: "event", name, data: args[0] ?? null }));

createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = JSON.parse(line);
  if (cmd.close) {
    socket.close();
    setTimeout(() => process.exit(0), 100);
    return;
  }
  const args = cmd.data === undefined ? [] : [cmd.data];
  if (cmd.ack) {
    socket.timeout(5000).emit(cmd.emit, ...args, (err, ...res) =>
      print(err ? { on: "ack_timeout", name: cmd.emit } : { on: "ack", name: cmd.emit, args: res }));
  } else {
    socket.emit(cmd.emit, ...args);
  }
}).on("close", () => process.exit(0));
