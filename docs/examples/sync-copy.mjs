// sync-copy.mjs: keeps a local copy of one store (its products, dashboard
// and daily sales) in a JSON file, live over the storesync WebSocket.
//
//   STORESYNC_URL=http://127.0.0.1:8080 STORESYNC_TOKEN=… \
//     node sync-copy.mjs s1 copy.json [--until SEQ]
//
// The first run takes a snapshot; later runs resume from the seq saved in
// the file (`since`) and receive only what they missed. `--until SEQ` stops
// once the copy has reached SEQ (tests and cron jobs use it); without it
// the script runs until stopped, reconnecting when the connection drops.
// Node 22 or later; on Node 20 run it with `node --experimental-websocket`.
import { readFileSync, renameSync, writeFileSync } from "node:fs";

const [store, file, ...rest] = process.argv.slice(2);
const until = rest[0] === "--until" ? Number(rest[1]) : Infinity;
const base = process.env.STORESYNC_URL ?? "http://127.0.0.1:8080";
const token = process.env.STORESYNC_TOKEN;
if (!store || !file || !token) {
  console.error("usage: STORESYNC_TOKEN=… node sync-copy.mjs STORE FILE [--until SEQ]");
  process.exit(64);
}

// The copy: seq is the last change applied; products by id.
let copy = { seq: null, products: {}, dashboard: null, days: {} };
try {
  copy = JSON.parse(readFileSync(file, "utf8"));
} catch {
  // No copy yet: the first subscribe asks for a snapshot.
}

function save() {
  writeFileSync(`${file}.tmp`, JSON.stringify(copy));
  renameSync(`${file}.tmp`, file); // atomic: a crash leaves the old copy
}

async function api(path) {
  const res = await fetch(`${base}/api/v1/stores/${store}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

// Applies a product's new fields unless the copy already has a newer
// version: after a snapshot the catalog is read over REST, which may be
// ahead of the batches still on their way.
function mergeProduct(id, fields) {
  const have = copy.products[id];
  if (have && have.version >= fields.version) return;
  copy.products[id] = { ...have, ...fields };
}

function applyEvent(e) {
  switch (e.kind) {
    case "product.created":
    case "product.updated":
    case "product.image_changed":
      mergeProduct(e.entity_id, e.data);
      break;
    case "product.deleted":
      delete copy.products[e.entity_id];
      break;
    case "dashboard.updated":
      // The fields that changed (a new local day: all of them).
      copy.dashboard = { ...copy.dashboard, ...e.data };
      break;
    case "sales.updated":
      copy.days[e.data.day.day] = e.data.day;
      for (const p of e.data.products) mergeProduct(p.id, p);
      break;
    // view.published moves followers' pages: nothing to copy.
  }
}

async function onSnapshot(snap) {
  copy = { seq: snap.seq, products: {}, dashboard: snap.dashboard, days: {} };
  for (const day of snap.sales) copy.days[day.day] = day;
  // The snapshot carries one page of products; the whole catalog comes
  // from the export, at this seq or later.
  for (const p of await api("/products/export?format=json")) copy.products[p.id] = p;
  save();
  console.log(`snapshot seq=${snap.seq} products=${Object.keys(copy.products).length}`);
}

// A batch of one event carries the event's fields inline and leaves out
// `from` and `to` when they are its seq; a longer one has `events`.
function expand(batch) {
  const { from, to, events, ...one } = batch;
  const list = events ?? [one];
  return { from: from ?? list[0].seq, to: to ?? list[list.length - 1].seq, events: list };
}

function onBatch(frame) {
  const batch = expand(frame);
  // A batch at or below the copy's seq was applied already (a replay
  // overlapping a snapshot): skip it, so every change applies once.
  if (copy.seq !== null && batch.to <= copy.seq) return;
  for (const e of batch.events) if (copy.seq === null || e.seq > copy.seq) applyEvent(e);
  copy.seq = batch.to;
  save();
  console.log(`batch from=${batch.from} to=${batch.to} events=${batch.events.length}`);
}

let attempt = 0;

function connect() {
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}/ws?token=${encodeURIComponent(token)}`);
  const subscribe = () => {
    const frame = { type: "subscribe", id: 1, store, topics: ["dashboard", "products", "sales"] };
    if (copy.seq !== null) frame.since = copy.seq; // resume: only what was missed
    ws.send(JSON.stringify(frame));
  };
  // Frames are handled one at a time, in order, even while a snapshot
  // reads the catalog.
  let queue = Promise.resolve();
  ws.onmessage = (msg) => {
    const frame = JSON.parse(msg.data);
    queue = queue.then(() => handle(frame)).catch((err) => {
      console.error(err.message);
      process.exit(1);
    });
  };
  async function handle(frame) {
    switch (frame.type) {
      case "hello":
        attempt = 0;
        subscribe();
        break;
      case "subscribed":
        console.log(`subscribed store=${frame.store} mode=${frame.mode} seq=${frame.seq}`);
        break;
      case "snapshot":
        await onSnapshot(frame);
        break;
      case "batch":
        onBatch(frame);
        break;
      case "resync":
        console.log(`resync reason=${frame.reason}`);
        if (frame.reason === "access_revoked") {
          console.error("the token lost its grant on the store");
          process.exit(1);
        }
        copy.seq = null; // start over from a snapshot
        subscribe();
        break;
      case "error":
        if (frame.code === "unavailable") {
          // The store is restarting (after a resync, say): try again soon.
          console.error("store unavailable; subscribing again in 1 s");
          setTimeout(subscribe, 1000);
          break;
        }
        console.error(`error ${frame.code}: ${frame.message}`);
        process.exit(1);
    }
    if (copy.seq !== null && copy.seq >= until) {
      console.log(`reached seq=${copy.seq}`);
      process.exit(0);
    }
  }
  ws.onclose = (event) => {
    if (event.code === 4001) {
      console.error("the token was revoked or expired");
      process.exit(1);
    }
    // Reconnect with full-jitter backoff; the next subscribe resumes.
    const delay = Math.random() * Math.min(30_000, 500 * 2 ** attempt++);
    console.log(`closed code=${event.code}; reconnecting in ${Math.round(delay)} ms`);
    setTimeout(connect, delay);
  };
}

connect();
