// admin.js: the admin page (/admin): wires the shared shell, the editable
// product table and the admin's forms and panels to one sync client. On a
// store where the user may not edit (a viewer) the page is read-only: no
// edit controls, no forms, and a pointer to the storefront (views/by-role.js
// picks by the role on the store shown).

import { boot } from './app.js';
import { h, setText } from './dom.js';
import { formatMoney } from './format.js';
import { dashboardView } from './views/dashboard.js';
import { salesChart } from './views/chart.js';
import { productsView } from './views/products.js';
import { historyView } from './views/history.js';
import { healthView } from './views/health.js';
import { feedbackControl, feedbackList } from './views/feedback.js';
import { dashboardForm, createProductForm, saleForm, publishControl, failure, describeOp } from './views/admin-forms.js';
import { savedViewsControl } from './views/saved-views.js';
import { productHistory } from './views/product-history.js';
import { activityView } from './views/activity.js';
import { bulkChanges } from './views/bulk.js';
import { scheduledChanges } from './views/scheduled.js';
import { liveTopicsControl } from './views/live-topics.js';
import { analyticsView } from './views/analytics.js';
import { kpiView } from './views/kpis.js';
import { mountByRole, roleOn, EDIT_ROLES } from './views/by-role.js';

/** "price $12.00, stock 3" for a conflict message. */
function describeFields(fields, currency) {
  return Object.entries(fields ?? {})
    .map(([k, v]) => `${k} ${k === 'price' ? formatMoney(v, currency) : v}`)
    .join(', ');
}

function mountEditing({ client, api, announce, root, me }) {
  const tableStatus = h('p', { class: 'form-status', role: 'status', id: 'table-status' });
  const alerts = h('div', { class: 'alerts', id: 'alerts' });
  const say = (msg) => setText(tableStatus, msg);

  /** Runs a product write and reports it; conflicts are reported by the listener below. */
  async function run(op, done) {
    try {
      const r = await client.write(op);
      if (r.queued) say(`Offline: change to ${op.meta.sku} queued; it is sent when the connection returns.`);
      else if (r.ok) say(done);
      return r;
    } catch (err) {
      say(`${op.meta.sku}: ${failure(err)}`);
      return null;
    }
  }

  const paths = client.api.paths;
  const store = () => client.state.get().store;
  const actions = {
    edit: (row, fields, base) => run({
      method: 'PATCH', path: paths.product(store(), row.id), body: fields, ifMatch: base,
      meta: { kind: 'edit', productId: row.id, sku: row.sku, name: row.name, fields },
    }, `Saved ${row.sku}.`),
    remove: (row, base) => run({
      method: 'DELETE', path: paths.product(store(), row.id), ifMatch: base,
      meta: { kind: 'delete', productId: row.id, sku: row.sku, name: row.name },
    }, `Deleted ${row.sku}.`),
    uploadImage: (row, file) => run({
      method: 'PUT', path: paths.image(store(), row.id), body: file,
      meta: { kind: 'image', productId: row.id, sku: row.sku, name: row.name },
    }, `Image of ${row.sku} saved.`),
    removeImage: (row) => run({
      method: 'DELETE', path: paths.image(store(), row.id),
      meta: { kind: 'image', productId: row.id, sku: row.sku, name: row.name },
    }, `Image of ${row.sku} removed.`),
  };

  // A stale If-Match is shown, never resolved silently: the admin decides,
  // on the row being edited (or at the top when the product left the page).
  client.addEventListener('conflict', (ev) => {
    const { op, current } = ev.detail;
    const id = op.meta?.productId;
    const cur = client.state.get().info?.currency;
    const what = op.meta?.fields ? `your change (${describeFields(op.meta.fields, cur)})` : 'your change';
    const now = current && op.meta?.fields
      ? ` It now has ${describeFields(Object.fromEntries(Object.keys(op.meta.fields).map((k) => [k, current[k]])), cur)}.` : '';
    const item = h('div', { class: 'alert conflict', role: 'alert', dataset: { productId: String(id ?? '') } },
      h('p', { text: `Conflict: ${op.meta?.sku ?? 'the item'} was changed by someone else, so ${what} was not applied.${now}` }));
    const close = () => {
      if (!products.setNote(id, null)) item.remove();
    };
    const actionsRow = h('div', { class: 'alert-actions' },
      current ? h('button', { type: 'button', text: 'Apply my change', on: { click: () => {
        close();
        run({ ...op, idempotencyKey: undefined, ifMatch: current.version }, `Saved ${op.meta?.sku}.`);
      } } }) : null,
      h('button', { type: 'button', class: 'secondary', text: 'Keep theirs', on: { click: () => {
        close();
        products.resetRow(id);
      } } }));
    item.append(actionsRow);
    if (!products.setNote(id, item)) alerts.prepend(item);
    products.resetRow(id);
    announce(`Conflict on ${op.meta?.sku ?? 'an item'}`);
  });
  client.addEventListener('write-failed', (ev) => say(`Queued change to ${describeOp(ev.detail.op)}: ${failure(ev.detail.error)}`));
  client.addEventListener('write-applied', (ev) => {
    if (ev.detail.op.replayed) say(`Queued change to ${describeOp(ev.detail.op)} sent.`);
  });
  client.addEventListener('invalid-frame', (ev) => console.warn('storesync: ignored a malformed frame:', ev.detail.reason));

  // What the user may do in the store shown (roles are per store).
  const roleIn = (slug) => roleOn(client, me, slug);
  const canAudit = (slug) => me.user.is_admin || roleIn(slug) === 'admin';
  const history = productHistory(client, api, { canAudit });
  const bulk = bulkChanges(client, api, {
    canEdit: (slug) => me.user.is_admin || EDIT_ROLES.includes(roleIn(slug)),
    setNote: (id, note) => products.setNote(id, note),
  });
  const products = productsView(client, { actions, parts: [bulk.part, history.part] });
  products.el.querySelector('h2').after(tableStatus, publishControl(client), savedViewsControl(client, api));
  products.el.querySelector('.toolbar').after(bulk.el);

  root.append(
    alerts,
    liveTopicsControl(client),
    h('div', { class: 'grid two' }, dashboardView(client), dashboardForm(client)),
    kpiView(client, me),
    salesChart(client),
    analyticsView(client),
    products.el,
    h('div', { class: 'grid three' }, createProductForm(client), saleForm(client), healthView(client, { serverHealth: true })),
    scheduledChanges(client, api),
    historyView(client),
    activityView(client, api, { canAudit, openHistory: history.open }),
    feedbackList(client),
    feedbackControl(client),
    history.el);
}

/** The admin page for a store the user may only read: figures, chart, products, health. */
function mountReadOnly({ client, root, me }) {
  root.append(
    h('p', { class: 'card read-only-note', id: 'read-only' },
      'You can view this store but not change it (your role here is viewer). ',
      h('a', { href: '/storefront', text: 'Open the storefront' }), ' for the shop view.'),
    dashboardView(client),
    kpiView(client, me),
    salesChart(client),
    analyticsView(client),
    productsView(client).el,
    h('div', { class: 'grid two' }, healthView(client), historyView(client)));
}

boot({
  title: 'storesync admin',
  other: { href: '/storefront', text: 'Storefront' },
  mount: (ctx) => mountByRole(ctx, { editing: mountEditing, readOnly: mountReadOnly }),
});
