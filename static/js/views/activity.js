// views/activity.js: the store's activity feed for its admins: recent
// changes (who, when, what), filtered by kind and by person, read from the
// audit trail (GET /audit) on entering a store or changing a filter, then
// kept live from the batches the page already receives (no polling). Links
// export the same events as CSV or JSON Lines; a product's entry opens its
// history (views/product-history.js).

import { h, replace, setText, uniqueId } from '../dom.js';
import { formatTime } from '../format.js';
import { describeEvent } from './describe.js';
import { failure } from './admin-forms.js';

/** Entries the feed shows. */
const KEEP = 50;
/** How far back (in seqs) the feed reads: its "recent". */
const WINDOW = 1000;
/** Kinds the filter offers. */
const KINDS = ['product.created', 'product.updated', 'product.deleted', 'product.image_changed', 'sales.updated',
  'dashboard.updated', 'view.published', 'view.saved', 'view.deleted', 'store.updated', 'store.archived', 'store.restored'];

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @param {ReturnType<typeof import('../api.js').createApi>} api
 * @param {object} opts
 * @param {(store: string) => boolean} opts.canAudit whether the user may read a store's trail
 * @param {(product: {id: number, sku?: string, name?: string}) => void} opts.openHistory
 * @returns {HTMLElement}
 */
export function activityView(client, api, { canAudit, openHistory }) {
  const kindId = uniqueId('activity-kind');
  const whoId = uniqueId('activity-who');
  const kind = h('select', { id: kindId, name: 'activity-kind' },
    h('option', { value: '', text: 'All kinds' }), ...KINDS.map((k) => h('option', { value: k, text: k })));
  const who = h('select', { id: whoId, name: 'activity-who' }, h('option', { value: '', text: 'Everyone' }));
  const csv = h('a', { dataset: { export: 'csv' }, download: '', text: 'Export CSV' });
  const ndjson = h('a', { dataset: { export: 'ndjson' }, download: '', text: 'Export JSON Lines' });
  const status = h('p', { class: 'muted', role: 'status' });
  const list = h('ol', { class: 'history activity', reversed: true, tabindex: '0', 'aria-labelledby': 'activity-title' });
  const el = h('section', { class: 'card activity-card', id: 'activity', 'aria-labelledby': 'activity-title', hidden: true },
    h('h2', { id: 'activity-title', text: 'Activity' }),
    h('div', { class: 'toolbar' },
      h('span', { class: 'field-inline' }, h('label', { for: kindId, text: 'Kind' }), kind),
      h('span', { class: 'field-inline' }, h('label', { for: whoId, text: 'Person' }), who),
      csv, ndjson),
    status, list);

  let loadedFor = null;
  let since = 0;
  let shown = new Set();
  let loading = null;
  const people = new Set();

  /** The filters as audit query parameters. */
  const filters = () => ({ ...(kind.value ? { kind: kind.value } : {}), ...(who.value ? { principal: who.value } : {}) });
  const passes = (e) => (!kind.value || e.kind === kind.value) && (!who.value || e.by === who.value);
  const auditPath = (store, params) => `/stores/${encodeURIComponent(store)}/audit?${new URLSearchParams(params)}`;

  function notePerson(by) {
    if (people.has(by)) return;
    people.add(by);
    const options = [...people].sort().map((p) => h('option', { value: p, text: p.replace(/^user:/, '') }));
    const current = who.value;
    replace(who, h('option', { value: '', text: 'Everyone' }), ...options);
    who.value = current;
  }

  function item(e) {
    const state = client.state.get();
    const product = e.kind.startsWith('product.') && e.entity_id !== undefined;
    const row = product ? state.page?.rows.find((r) => r.id === e.entity_id) : null;
    const name = e.data?.sku ?? row?.sku;
    return h('li', { dataset: { seq: String(e.seq), kind: e.kind } },
      h('time', { datetime: e.at, text: formatTime(e.at) }), ' ',
      h('span', { class: 'by', text: e.by.replace(/^user:/, '') }), ': ',
      h('span', { text: describeEvent(e, state) || e.kind }),
      product ? h('button', {
        type: 'button', class: 'small secondary', text: 'History', 'aria-label': `History of ${name ?? `product ${e.entity_id}`}`,
        on: { click: () => openHistory({ id: e.entity_id, sku: name, name: e.data?.name ?? row?.name }) },
      }) : null);
  }

  function add(e) {
    notePerson(e.by);
    if (shown.has(e.seq) || !passes(e)) return;
    shown.add(e.seq);
    // Newest first, also when a live event came in while the list loaded.
    const later = [...list.children].find((li) => Number(li.dataset.seq) < e.seq) ?? null;
    list.insertBefore(item(e), later);
    while (list.children.length > KEEP) list.lastElementChild.remove();
    setText(status, '');
  }

  async function load() {
    const store = loadedFor;
    list.replaceChildren();
    shown = new Set();
    const params = { after: since, limit: 5000, ...filters() };
    csv.href = `/api/v1${auditPath(store, { ...params, format: 'csv' })}`;
    ndjson.href = `/api/v1${auditPath(store, { ...params, format: 'ndjson' })}`;
    setText(status, 'Loading…');
    const run = api.request('GET', auditPath(store, params));
    loading = run;
    try {
      const page = await run;
      if (loading !== run) return;
      for (const e of page.events.slice(-KEEP)) add(e);
      setText(status, list.children.length ? '' : `No matching change among the last ${WINDOW} of this store.`);
    } catch (err) {
      if (loading === run) setText(status, `Activity unavailable: ${failure(err)}`);
    }
  }

  kind.addEventListener('change', () => loadedFor && load());
  who.addEventListener('change', () => loadedFor && load());

  client.state.subscribe((s, reason) => {
    if (reason === 'switch') {
      loadedFor = null;
      list.replaceChildren();
      people.clear();
    }
    el.hidden = !s.store || !canAudit(s.store);
    if (!el.hidden && s.store !== loadedFor && s.seq !== null) {
      loadedFor = s.store;
      since = Math.max(0, s.seq - WINDOW);
      load();
    }
  });
  client.addEventListener('event', (ev) => {
    if (loadedFor && client.state.get().store === loadedFor) add(ev.detail.event);
  });
  return el;
}
