// subscriber.mjs: one WebSocket subscriber of a store, as an open browser
// tab is, that can stop reading its socket for a while: a slow consumer on
// demand (Node 18 or later, no packages).
//
//   STORESYNC_URL=http://127.0.0.1:8080 STORESYNC_TOKEN=… node subscriber.mjs s1 [--stall SECS] [--for SECS]
//
// It subscribes to the store with a full page of the most recently changed
// products (200 rows, so that every product change sends a large page
// frame), prints `subscribed store=s1 seq=N`, then reads, printing the last
// seq of every `batch` and every `resync` frame with its reason, for --for
// seconds (default: until it is
// stopped). With --stall it stops reading right after subscribing: the
// socket's buffers fill, then the server's queue for it; after SECS seconds
// it reads again and prints what was waiting.
//
// It speaks WebSocket over a plain TCP socket (net) because a WebSocket
// client library cannot stop reading.
import net from "node:net";
import crypto from "node:crypto";

const [store, ...rest] = process.argv.slice(2);
const option = (name) => (rest.includes(name) ? Number(rest[rest.indexOf(name) + 1]) : 0);
const [stall, runFor] = [option("--stall"), option("--for")];
const url = new URL(process.env.STORESYNC_URL ?? "http://127.0.0.1:8080");
if (!store || !process.env.STORESYNC_TOKEN) {
  console.error("usage: STORESYNC_URL=… STORESYNC_TOKEN=… node subscriber.mjs STORE [--stall SECS] [--for SECS]");
  process.exit(64);
}

// A client frame: text (0x1) or pong (0xA), masked as RFC 6455 requires.
function frame(opcode, payload) {
  const length = payload.length;
  const head = length < 126 ? Buffer.from([0x80 | opcode, 0x80 | length])
    : Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff]);
  const mask = crypto.randomBytes(4);
  return Buffer.concat([head, mask, payload.map((byte, i) => byte ^ mask[i % 4])]);
}
const send = (message) => socket.write(frame(0x1, Buffer.from(JSON.stringify(message))));

const socket = net.connect(Number(url.port || 80), url.hostname);
socket.write(
  `GET /ws?token=${encodeURIComponent(process.env.STORESYNC_TOKEN)} HTTP/1.1\r\nHost: ${url.host}\r\n` +
    `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString("base64")}\r\n` +
    "Sec-WebSocket-Version: 13\r\n\r\n",
);

let buffer = Buffer.alloc(0);
let upgraded = false;
let frames = 0;
socket.on("data", (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  if (!upgraded) {
    const end = buffer.indexOf("\r\n\r\n");
    if (end < 0) return;
    const status = buffer.subarray(0, buffer.indexOf("\r\n")).toString();
    if (!status.includes(" 101 ")) {
      console.error(`refused: ${status}`);
      process.exit(1);
    }
    upgraded = true;
    buffer = buffer.subarray(end + 4);
  }
  // Server frames are not masked; the server sends no fragments.
  while (buffer.length >= 2) {
    let [length, at] = [buffer[1] & 0x7f, 2];
    if (length === 126) [length, at] = [buffer.readUInt16BE(2), 4];
    if (length === 127) [length, at] = [Number(buffer.readBigUInt64BE(2)), 10];
    if (buffer.length < at + length) return;
    const [opcode, payload] = [buffer[0] & 0x0f, buffer.subarray(at, at + length)];
    buffer = buffer.subarray(at + length);
    if (opcode === 0x9) socket.write(frame(0xa, payload));
    if (opcode === 0x8) process.exit(0);
    if (opcode === 0x1) message(JSON.parse(payload));
  }
});
socket.on("error", (e) => {
  console.error(`socket: ${e.message}`);
  process.exit(1);
});

function message(m) {
  frames += 1;
  if (m.type === "hello") {
    send({ type: "subscribe", store, view: { page_size: 200, sort: "updated_at", dir: "desc" } });
  } else if (m.type === "subscribed") {
    console.log(`subscribed store=${store} seq=${m.seq}`);
    if (stall) {
      socket.pause();
      console.log(`not reading for ${stall} s`);
      setTimeout(() => {
        console.log("reading again");
        frames = 0;
        socket.resume();
      }, stall * 1000);
    }
  } else if (m.type === "batch") {
    // A one-event batch carries its event inline: its seq is the batch's end.
    console.log(`batch to=${m.to ?? m.seq}`);
  } else if (m.type === "resync") {
    console.log(`resync reason=${m.reason} after ${frames} frames`);
  } else if (m.type === "error") {
    console.log(`error ${m.code}: ${m.message}`);
  }
}

if (runFor) {
  setTimeout(() => {
    console.log(`done: ${frames} frames since subscribing or reading again`);
    process.exit(0);
  }, runFor * 1000);
}
