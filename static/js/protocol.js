// protocol.js: validators for the frames of WebSocket protocol v1
// (docs/protocol.md). Nothing from the network reaches the state store
// without passing here: a malformed frame is reported and dropped, never
// half-applied. Validation checks what the client relies on (types of ids,
// seqs, money, rows), and lets unknown extra fields through so that a newer
// server stays compatible.

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isInt = (v) => Number.isSafeInteger(v);
const isSeq = (v) => isInt(v) && v >= 0;
const isStr = (v) => typeof v === 'string';
const isOptStr = (v) => v === undefined || v === null || isStr(v);
// Unix milliseconds a Date can hold.
const isMillis = (v) => isInt(v) && Math.abs(v) <= 8.64e15;

class FrameError extends Error {}

function need(ok, what) {
  if (!ok) throw new FrameError(what);
}

/** @param {any} s */
function checkStoreInfo(s) {
  need(isObj(s) && isStr(s.slug) && isStr(s.name) && isStr(s.currency)
    && isStr(s.time_zone) && typeof s.public === 'boolean', 'store info');
}

/** @param {any} p */
export function checkProduct(p) {
  need(isObj(p) && isInt(p.id) && isStr(p.sku) && isStr(p.name), 'product id/sku/name');
  for (const f of ['price', 'stock', 'views', 'units_sold', 'revenue', 'version']) {
    need(isInt(p[f]), `product ${f}`);
  }
  need(['active', 'draft', 'archived'].includes(p.status), 'product status');
  need(isOptStr(p.image), 'product image');
}

/** @param {any} d */
function checkDashboard(d) {
  need(isObj(d) && isStr(d.day) && isStr(d.notice), 'dashboard');
  for (const f of ['revenue_today', 'orders_today', 'units_today', 'visitors_today',
    'conversion_bp', 'average_order_value', 'refunds_today', 'revenue_target', 'version']) {
    need(isInt(d[f]), `dashboard ${f}`);
  }
}

/** `dashboard.updated` data: the changed fields and `version`, or a new day whole. */
function checkDashboardChange(d) {
  need(isObj(d) && isInt(d.version), 'dashboard.updated version');
  if (d.day !== undefined) return checkDashboard(d);
  need(d.notice === undefined || isStr(d.notice), 'dashboard notice');
  for (const f of ['revenue_today', 'orders_today', 'units_today', 'visitors_today',
    'conversion_bp', 'average_order_value', 'refunds_today', 'revenue_target']) {
    need(d[f] === undefined || isInt(d[f]), `dashboard ${f}`);
  }
}

/** @param {any} p */
function checkDay(p) {
  need(isObj(p) && isStr(p.day) && isInt(p.orders) && isInt(p.units) && isInt(p.revenue), 'daily point');
}

/** @param {any} v */
function checkView(v) {
  need(isObj(v) && isInt(v.page) && v.page >= 1 && isInt(v.page_size) && v.page_size >= 1
    && isStr(v.sort) && (v.dir === 'asc' || v.dir === 'desc'), 'view');
}

/** @param {any} page */
function checkPage(page) {
  need(isObj(page) && isSeq(page.seq) && isInt(page.total) && Array.isArray(page.rows), 'page');
  checkView(page.view);
  page.rows.forEach(checkProduct);
}

// Event data checks, by kind: only the fields the client merges into state.
const EVENT_DATA = {
  'product.created': checkProduct,
  'product.updated': (d) => {
    need(isInt(d.version), 'product.updated version');
    for (const f of ['price', 'stock', 'views']) need(d[f] === undefined || isInt(d[f]), `product.updated ${f}`);
    for (const f of ['name', 'sku']) need(d[f] === undefined || isStr(d[f]), `product.updated ${f}`);
  },
  'product.deleted': (d) => need(isInt(d.id), 'product.deleted id'),
  'product.image_changed': (d) => need(isOptStr(d.image) && isInt(d.version), 'image_changed'),
  'dashboard.updated': checkDashboardChange,
  'sales.updated': (d) => {
    checkDay(d.day);
    need(isInt(d.amount) && (d.products === undefined || Array.isArray(d.products)), 'sale');
    (d.products ?? []).forEach((p) => need(isObj(p) && isInt(p.id) && isInt(p.units_sold)
      && isInt(p.revenue) && isInt(p.stock) && isInt(p.version), 'sale product figures'));
  },
  'view.published': (d) => checkView(d.view),
  'store.updated': (d) => {
    checkStoreInfo(d.store);
    if (d.sales !== undefined) {
      need(Array.isArray(d.sales), 'store.updated sales');
      d.sales.forEach(checkDay);
    }
    if (d.dashboard !== undefined) checkDashboard(d.dashboard);
  },
  'store.archived': (d) => checkStoreInfo(d.store),
  'store.restored': (d) => checkStoreInfo(d.store),
};

/**
 * Checks one event of a batch or of `GET /events`. Unknown kinds pass (a newer
 * server may add some); the client ignores them.
 * @param {any} e
 */
export function checkEvent(e) {
  // `by` is left out of events sent to subscribers of neither products nor history.
  need(isObj(e) && isSeq(e.seq) && isStr(e.kind) && isStr(e.at) && (e.by === undefined || isStr(e.by))
    && isObj(e.data), 'event');
  need(e.entity_id === undefined || e.entity_id === null || isInt(e.entity_id), 'event entity_id');
  EVENT_DATA[e.kind]?.(e.data);
}

/**
 * The store slug a frame is about (`store`; snapshots also carry `info`).
 * @param {any} frame
 * @returns {string|undefined}
 */
export function frameStore(frame) {
  return isStr(frame.store) ? frame.store : frame.info?.slug;
}

const FRAMES = {
  hello: (f) => {
    need(f.v === 1, 'protocol version');
    need(isStr(f.user) && isInt(f.heartbeat_ms) && Array.isArray(f.stores), 'hello');
    f.stores.forEach(checkStoreInfo);
  },
  subscribed: (f) => need(isSeq(f.seq) && (f.mode === 'replay' || f.mode === 'snapshot'), 'subscribed'),
  unsubscribed: () => {},
  stores: (f) => {
    need(Array.isArray(f.stores), 'stores');
    f.stores.forEach(checkStoreInfo);
  },
  snapshot: (f) => {
    need(isSeq(f.seq), 'snapshot seq');
    if (isObj(f.store)) checkStoreInfo(f.store);
    checkDashboard(f.dashboard);
    need(Array.isArray(f.sales), 'snapshot sales');
    f.sales.forEach(checkDay);
    checkPage(f.page);
  },
  batch: (f) => {
    need(isSeq(f.from) && isSeq(f.to) && f.from <= f.to && Array.isArray(f.events), 'batch range');
    f.events.forEach(checkEvent);
    need(f.events.every((e) => e.seq >= f.from && e.seq <= f.to), 'batch event outside its range');
  },
  page: checkPage,
  presence: (f) => need(isInt(f.admins) && isInt(f.editors) && isInt(f.viewers) && (f.followers === undefined || isInt(f.followers)), 'presence'),
  resync: (f) => need(isStr(f.reason), 'resync reason'),
  pong: () => {},
  digest: (f) => {
    need(isSeq(f.seq) && (f.page === undefined || isInt(f.page)), 'digest');
    need(f.digest === null || (isObj(f.digest) && isSeq(f.digest.seq) && isInt(f.digest.products)
      && isInt(f.digest.count) && isInt(f.digest.dashboard)), 'digest parts');
  },
  topics: (f) => need(isSeq(f.seq) && Array.isArray(f.topics) && f.topics.every(isStr)
    && ['live', 'replay', 'snapshot'].includes(f.mode) && (f.since === undefined || isSeq(f.since)), 'topics'),
  error: (f) => need(isStr(f.code) && isStr(f.message), 'error'),
};

/**
 * A `batch` frame in its full shape, `{type, store, from, to, events}`, with
 * each event's `at` as an RFC 3339 string like REST's. On the wire a batch
 * of one event carries the event's fields inline and leaves out `from` and
 * `to` where they are its seq, and `at` is Unix milliseconds (protocol v1
 * as changed by issue #15, docs/protocol.md).
 * @param {any} f
 */
function expandBatch(f) {
  const { type, store, from, to, events, ...inline } = f;
  const list = events ?? [inline];
  need(Array.isArray(list) && list.every((e) => isObj(e) && isMillis(e.at)), 'batch events');
  const first = list[0]?.seq;
  const last = list[list.length - 1]?.seq;
  return {
    type, store, from: from ?? first, to: to ?? last,
    events: list.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
  };
}

/**
 * Parses and validates one server text frame.
 * @param {string} text
 * @returns {{ok: true, frame: any} | {ok: false, reason: string}}
 */
export function parseServerFrame(text) {
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  try {
    need(isObj(frame) && isStr(frame.type), 'frame type');
    const check = FRAMES[frame.type];
    need(check !== undefined, `unknown frame type ${frame.type}`);
    if (!['hello', 'pong', 'error', 'stores'].includes(frame.type)) need(isStr(frameStore(frame)), 'frame store');
    if (frame.type === 'batch') frame = expandBatch(frame);
    check(frame);
    return { ok: true, frame };
  } catch (err) {
    if (err instanceof FrameError) return { ok: false, reason: err.message };
    throw err;
  }
}

/**
 * Validates a `GET /events` answer (the long-poll fallback).
 * @param {any} body
 * @returns {{ok: true, events: any[], lastSeq: number} | {ok: false, reason: string}}
 */
export function parseEventsPage(body) {
  try {
    need(isObj(body) && Array.isArray(body.events) && isSeq(body.last_seq), 'events page');
    body.events.forEach(checkEvent);
    return { ok: true, events: body.events, lastSeq: body.last_seq };
  } catch (err) {
    if (err instanceof FrameError) return { ok: false, reason: err.message };
    throw err;
  }
}

/**
 * Validates a REST snapshot (`GET /snapshot`), the same shape as the frame.
 * @param {any} body
 * @returns {boolean}
 */
export function isSnapshot(body) {
  try {
    FRAMES.snapshot(body);
    checkStoreInfo(body.info);
    return true;
  } catch (err) {
    if (err instanceof FrameError) return false;
    throw err;
  }
}

/**
 * Validates a page answer (`GET /products`).
 * @param {any} body
 * @returns {boolean}
 */
export function isPage(body) {
  try {
    checkPage(body);
    return true;
  } catch (err) {
    if (err instanceof FrameError) return false;
    throw err;
  }
}
