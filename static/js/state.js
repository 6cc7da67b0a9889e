// state.js: the small state store views subscribe to, and the pure
// functions that fold protocol events into a store's data. Keeping the
// folding pure (no socket, no DOM) is what lets the WebSocket path and the
// long-poll fallback share it and apply exactly the same changes.

/**
 * @template S
 * @typedef {object} StateStore
 * @property {() => S} get
 * @property {(patch: Partial<S>, reason: string) => void} set
 * @property {(fn: (state: S, reason: string) => void) => () => void} subscribe
 */

/**
 * Creates a store holding one immutable state object; `set` merges a patch
 * and tells every subscriber why the state changed.
 * @template S
 * @param {S} initial
 * @returns {StateStore<S>}
 */
export function createStateStore(initial) {
  let state = initial;
  const listeners = new Set();
  return {
    get: () => state,
    set(patch, reason) {
      state = { ...state, ...patch };
      for (const fn of [...listeners]) {
        try {
          fn(state, reason);
        } catch (err) {
          // One broken view must not stop the others from rendering.
          console.error('state listener failed', err);
        }
      }
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

/**
 * @typedef {object} StoreData
 * @property {any} info StoreInfo
 * @property {any} dashboard
 * @property {any[]} sales daily points, oldest first
 * @property {any} page {seq, view, total, rows}
 */

/** Merges fields into a row of the page when the event is not older. */
function mergeRow(page, id, fields) {
  if (!page || id === undefined || id === null) return page;
  const i = page.rows.findIndex((r) => r.id === id);
  if (i < 0) return page;
  const row = page.rows[i];
  // A version below the row's means the page was fetched after this event.
  if (Number.isInteger(fields.version) && fields.version < row.version) return page;
  const rows = page.rows.slice();
  rows[i] = { ...row, ...fields, id };
  return { ...page, rows };
}

/** Puts a day's totals into the 30-day series, replacing or appending. */
function upsertDay(sales, point) {
  if (!Array.isArray(sales)) return sales;
  const i = sales.findIndex((p) => p.day === point.day);
  if (i >= 0) {
    const next = sales.slice();
    next[i] = point;
    return next;
  }
  if (sales.length && point.day < sales[sales.length - 1].day) return sales;
  return [...sales, point].slice(-30);
}

/**
 * The dashboard after a sale: the sales figures are computed from the local
 * day's totals the same way the server computes them (integer division).
 */
function dashboardWithDay(d, point) {
  if (!d || point.day < d.day) return d;
  const { orders, revenue, units } = point;
  return {
    ...d,
    day: point.day,
    revenue_today: revenue,
    orders_today: orders,
    units_today: units,
    conversion_bp: d.visitors_today > 0 ? Math.floor((orders * 10_000) / d.visitors_today) : 0,
    average_order_value: orders > 0 ? Math.floor(revenue / orders) : 0,
  };
}

/**
 * The dashboard after `dashboard.updated`, whose data holds the fields that
 * changed and `version` (a new local day comes whole, `day` included); its
 * `updated_at` is the event's `at`. An older version than the one held (a
 * snapshot fetched after the event) changes nothing.
 */
function mergeDashboard(d, fields, at) {
  if (!d) return 'day' in fields ? { updated_at: at, ...fields } : d;
  if (fields.version <= d.version) return d;
  return { ...d, updated_at: at, ...fields };
}

/**
 * Folds validated events (seq order) into a store's data.
 * @param {StoreData} data
 * @param {any[]} events
 * @returns {StoreData & {membershipChanged: boolean}} membershipChanged: the
 *   page's rows or order may have moved (only a `page` frame or a refetch
 *   can tell which rows the page now holds)
 */
export function applyEvents(data, events) {
  let { info, dashboard, sales, page } = data;
  let membershipChanged = false;
  for (const e of events) {
    const d = e.data;
    switch (e.kind) {
      case 'product.updated':
      case 'product.image_changed':
        page = mergeRow(page, e.entity_id ?? d.id, d);
        if (e.kind === 'product.updated' && page?.view && page.view.sort in d) membershipChanged = true;
        break;
      case 'product.created':
        membershipChanged = true;
        break;
      case 'product.deleted':
        if (page) page = { ...page, rows: page.rows.filter((r) => r.id !== d.id) };
        membershipChanged = true;
        break;
      case 'dashboard.updated':
        dashboard = mergeDashboard(dashboard, d, e.at);
        break;
      case 'sales.updated':
        sales = upsertDay(sales, d.day);
        dashboard = dashboardWithDay(dashboard, d.day);
        // Product figures come only to subscribers of the products topic.
        for (const p of d.products ?? []) page = mergeRow(page, p.id, p);
        membershipChanged = true;
        break;
      case 'store.updated':
      case 'store.archived':
      case 'store.restored':
        // The store's name, formats and, after a time-zone change, its days.
        info = d.store;
        if (d.sales) sales = d.sales;
        if (d.dashboard) dashboard = d.dashboard;
        break;
      default:
        // view.published and kinds this client does not know change no data.
    }
  }
  return { info, dashboard, sales, page, membershipChanged };
}
