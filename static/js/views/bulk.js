// views/bulk.js: bulk changes in the admin's product table (POST
// /products/bulk). A checkbox on each row and one in the header ("all on
// this page") select products; once a whole page is selected, the bar
// offers every product matching the current filter instead. The bar
// chooses the change and its value, previews it (a dry run: how many
// products change and a few of them before → after), applies it all or
// nothing, and keeps an Undo for each change applied in this session (the
// API's restore of the answer's `before`). A refused change names its
// failing products in the bar and under their rows. Rows update from the
// live batch the change produces, like any other write.

import { h, replace, setText, uniqueId } from '../dom.js';
import { formatMoney, formatNumber, parseMoney } from '../format.js';
import { STATUSES } from './product-table.js';
import { failure } from './admin-forms.js';

/** The changes the bar offers: label, value input, how to read it. */
const OPS = {
  set_status: { label: 'Set status', field: 'status' },
  add_to_price: { label: 'Add to price', field: 'price' },
  scale_price: { label: 'Change price by percent', field: 'price' },
  set_stock: { label: 'Set stock', field: 'stock' },
  add_to_stock: { label: 'Add to stock', field: 'stock' },
  delete: { label: 'Delete', field: null },
};

/** Products a preview shows before → after. */
const EXAMPLES = 5;

/**
 * Parses a signed amount of money ("-1.50") into minor units, or null.
 * @param {string} text
 * @param {string} currency
 */
function parseSignedMoney(text, currency) {
  const t = text.trim();
  const negative = t.startsWith('-');
  const minor = parseMoney(negative ? t.slice(1) : t, currency);
  return minor === null ? null : negative ? -minor : minor;
}

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @param {ReturnType<typeof import('../api.js').createApi>} api
 * @param {object} opts
 * @param {(store: string) => boolean} opts.canEdit whether the user may change a store's products
 * @param {(id: number, note: HTMLElement|null) => boolean} opts.setNote a note under a product's row
 * @returns {{el: HTMLElement, part: import('./product-table.js').RowPart}}
 */
export function bulkChanges(client, api, { canEdit, setNote }) {
  /** Selected product ids on this page. */
  const selected = new Set();
  /** Every product matching the filter, instead of `selected`. */
  let allMatching = false;
  /** Changes applied in this session, newest last: what Undo sends back. */
  const undoStack = [];
  /** Products showing a failure note. */
  let noted = [];
  const boxes = new Map();

  const store = () => client.state.get().store;
  const currency = () => client.state.get().info?.currency;
  const pageRows = () => client.state.get().page?.rows ?? [];

  const headBox = h('input', { type: 'checkbox', 'aria-label': 'Select all products on this page', dataset: { bulk: 'page' } });
  headBox.addEventListener('change', () => {
    allMatching = false;
    selected.clear();
    if (headBox.checked) for (const r of pageRows()) selected.add(r.id);
    render();
  });

  // The bar.
  const count = h('p', { class: 'bulk-count', role: 'status', dataset: { field: 'bulk-count' } });
  const matchAll = h('button', { type: 'button', class: 'secondary', dataset: { bulk: 'all-matching' } });
  matchAll.addEventListener('click', () => {
    allMatching = true;
    render();
  });
  const clear = h('button', { type: 'button', class: 'secondary', text: 'Clear selection' });
  clear.addEventListener('click', () => clearSelection());

  const opId = uniqueId('bulk-op');
  const op = h('select', { id: opId, name: 'bulk-op' },
    ...Object.entries(OPS).map(([k, o]) => h('option', { value: k, text: o.label })));
  const valueId = uniqueId('bulk-value');
  const valueLabel = h('label', { for: valueId });
  const value = h('input', { id: valueId, name: 'bulk-value', autocomplete: 'off', size: '8' });
  const statusSel = h('select', { id: uniqueId('bulk-status'), name: 'bulk-status' },
    ...STATUSES.map((s) => h('option', { value: s, text: s })));
  const statusLabel = h('label', { for: statusSel.id, text: 'Status' });
  const roundingSel = h('select', { id: uniqueId('bulk-rounding'), name: 'bulk-rounding' },
    ...[['nearest', 'Nearest'], ['up', 'Up'], ['down', 'Down']].map(([v, t]) => h('option', { value: v, text: t })));
  const roundingLabel = h('label', { for: roundingSel.id, text: 'Rounding' });
  const valueField = h('span', { class: 'field-inline' }, valueLabel, value);
  const statusField = h('span', { class: 'field-inline' }, statusLabel, statusSel);
  const roundingField = h('span', { class: 'field-inline' }, roundingLabel, roundingSel);
  const preview = h('button', { type: 'button', text: 'Preview', dataset: { bulk: 'preview' } });
  const apply = h('button', { type: 'button', text: 'Apply', dataset: { bulk: 'apply' } });
  const undo = h('button', { type: 'button', class: 'secondary', dataset: { bulk: 'undo' }, hidden: true });
  const result = h('div', { class: 'bulk-result', role: 'status', dataset: { field: 'bulk-result' } });
  const controls = h('div', { class: 'bulk-controls' },
    h('span', { class: 'field-inline' }, h('label', { for: opId, text: 'Change' }), op),
    statusField, valueField, roundingField, preview, apply, clear);
  const el = h('section', { class: 'bulk-bar', 'aria-label': 'Bulk change', id: 'bulk-bar', hidden: true },
    h('div', { class: 'bulk-selection' }, count, matchAll), controls, result, undo);

  function showOp() {
    const k = op.value;
    statusField.hidden = k !== 'set_status';
    roundingField.hidden = k !== 'scale_price';
    valueField.hidden = k === 'set_status' || k === 'delete';
    setText(valueLabel, {
      add_to_price: `Amount (${currency() ?? ''}, negative lowers)`, scale_price: 'Percent',
      set_stock: 'Stock', add_to_stock: 'Amount (negative removes)',
    }[k] ?? 'Value');
    value.inputMode = k === 'add_to_price' ? 'decimal' : 'numeric';
    value.removeAttribute('aria-invalid');
    disarm();
  }
  op.addEventListener('change', showOp);
  value.addEventListener('input', disarm);

  /** The change the bar describes, or null (and the field marked) when its value is invalid. */
  function change() {
    const k = op.value;
    const raw = value.value.trim();
    let c = null;
    if (k === 'set_status') c = { op: k, status: statusSel.value };
    else if (k === 'delete') c = { op: k };
    else if (k === 'add_to_price') {
      const amount = parseSignedMoney(raw, currency());
      c = amount === null ? null : { op: k, amount };
    } else if (k === 'scale_price') {
      const percent = Number(raw);
      c = raw && Number.isFinite(percent) ? { op: k, percent, rounding: roundingSel.value } : null;
    } else {
      const n = Number(raw);
      c = raw && Number.isSafeInteger(n) ? (k === 'set_stock' ? { op: k, stock: n } : { op: k, amount: n }) : null;
    }
    if (!c) {
      value.setAttribute('aria-invalid', 'true');
      value.focus();
    } else value.removeAttribute('aria-invalid');
    return c;
  }

  /** The selection part of a request. */
  function selection() {
    if (allMatching) return { filter: client.state.get().view };
    return { ids: [...selected] };
  }

  function selectedCount() {
    return allMatching ? client.state.get().page?.total ?? 0 : selected.size;
  }

  /** "S1-00001" for a product on the page, else its id. */
  function nameOf(id) {
    const row = pageRows().find((r) => r.id === id);
    return row ? row.sku : `product ${id}`;
  }

  function showRow(field, row) {
    return field === 'price' ? formatMoney(row.price, currency()) : String(row[field]);
  }

  async function send(body) {
    return api.request('POST', `/stores/${encodeURIComponent(store())}/products/bulk`, { body });
  }

  /** Shows why a change was refused: in the bar, and under each failing row on the page. */
  function showFailure(err) {
    const rows = err?.details?.rows;
    if (!Array.isArray(rows)) {
      replace(result, h('p', { class: 'error', text: failure(err) }));
      return;
    }
    replace(result,
      h('p', { class: 'error', text: `Nothing was changed: ${rows.length} ${rows.length === 1 ? 'product cannot' : 'products cannot'} take this change.` }),
      h('ul', { class: 'bulk-errors' }, ...rows.map((r) => h('li', { dataset: { id: String(r.id) }, text: `${nameOf(r.id)}: ${r.message}` }))));
    for (const r of rows) {
      const note = h('div', { class: 'row-alert bulk-failed', role: 'note', text: `Bulk change refused for ${nameOf(r.id)}: ${r.message}` });
      if (setNote(r.id, note)) noted.push(r.id);
    }
  }

  function clearNotes() {
    for (const id of noted) setNote(id, null);
    noted = [];
  }

  preview.addEventListener('click', async () => {
    const c = change();
    if (!c) return;
    clearNotes();
    setText(result, 'Previewing…');
    try {
      const report = await send({ ...selection(), change: c, dry_run: true });
      const field = OPS[c.op].field;
      const examples = (c.op === 'delete' ? [] : report.after.slice(0, EXAMPLES)).map((after, i) => {
        const before = report.before[i];
        return h('li', { dataset: { id: String(after.id) } },
          `${nameOf(after.id)}: ${showRow(field, before)} → ${showRow(field, after)}`);
      });
      const verb = c.op === 'delete' ? 'delete' : 'change';
      replace(result,
        h('p', { dataset: { field: 'bulk-preview' }, text: `Preview: would ${verb} ${formatNumber(report.changed)} of ${formatNumber(report.matched)} selected products.` }),
        examples.length ? h('ul', { class: 'bulk-examples', 'aria-label': 'Examples' }, ...examples) : null);
    } catch (err) {
      showFailure(err);
    }
  });

  /** Delete takes two steps, like a row's Delete. */
  function disarm() {
    delete apply.dataset.armed;
    setText(apply, 'Apply');
  }

  apply.addEventListener('click', async () => {
    const c = change();
    if (!c) return;
    if (c.op === 'delete' && !apply.dataset.armed) {
      apply.dataset.armed = 'true';
      setText(apply, `Confirm delete of ${formatNumber(selectedCount())}`);
      return;
    }
    disarm();
    clearNotes();
    setText(result, 'Applying…');
    try {
      const report = await send({ ...selection(), change: c });
      const what = `${OPS[c.op].label.toLowerCase()} on ${formatNumber(report.changed)} products`;
      if (report.before.length) undoStack.push({ what, rows: report.before });
      clearSelection();
      replace(result, h('p', { text: `Applied: ${what}.` }));
    } catch (err) {
      showFailure(err);
    }
    render();
  });

  undo.addEventListener('click', async () => {
    const last = undoStack.at(-1);
    if (!last) return;
    clearNotes();
    try {
      await send({ change: { op: 'restore', rows: last.rows } });
      undoStack.pop();
      replace(result, h('p', { text: `Undone: ${last.what}.` }));
    } catch (err) {
      showFailure(err);
    }
    render();
  });

  function clearSelection() {
    selected.clear();
    allMatching = false;
    disarm();
    render();
  }

  /** Shows the selection on the checkboxes and in the bar. */
  function render() {
    const s = client.state.get();
    const rows = s.page?.rows ?? [];
    const n = selectedCount();
    const wholePage = rows.length > 0 && rows.every((r) => selected.has(r.id));
    for (const [id, box] of boxes) box.checked = allMatching || selected.has(id);
    headBox.checked = allMatching || wholePage;
    headBox.indeterminate = !headBox.checked && selected.size > 0;
    setText(count, allMatching ? `All ${formatNumber(n)} products matching the current filter are selected.`
      : `${formatNumber(n)} selected.`);
    const total = s.page?.total ?? 0;
    matchAll.hidden = allMatching || !wholePage || total <= rows.length;
    setText(matchAll, `Select all ${formatNumber(total)} matching the current filter`);
    controls.hidden = n === 0;
    count.hidden = n === 0;
    undo.hidden = !undoStack.length;
    if (undoStack.length) setText(undo, `Undo ${undoStack.at(-1).what}`);
    el.hidden = !canEdit(s.store ?? '') || (n === 0 && !undoStack.length && !result.textContent);
  }

  client.state.subscribe((s, reason) => {
    if (reason === 'switch') {
      undoStack.length = 0;
      replace(result);
    }
    if (reason === 'switch' || reason === 'view') {
      selected.clear();
      allMatching = false;
    }
    // Only products on the page stay selected (one may have left it).
    const onPage = new Set((s.page?.rows ?? []).map((r) => r.id));
    for (const id of selected) if (!onPage.has(id)) selected.delete(id);
    for (const id of boxes.keys()) if (!onPage.has(id)) boxes.delete(id);
    render();
  });
  showOp();
  render();

  const part = {
    column: { key: 'select', label: 'Select' },
    head: (th) => th.replaceChildren(headBox),
    build(tr, row) {
      const box = h('input', { type: 'checkbox', 'aria-label': `Select ${row.sku}`, dataset: { bulk: 'row' } });
      box.addEventListener('change', () => {
        const id = tr.rowData.id;
        if (allMatching) {
          // Unticking one of "all matching" narrows to the page's rows.
          allMatching = false;
          for (const r of pageRows()) selected.add(r.id);
        }
        if (box.checked) selected.add(id);
        else selected.delete(id);
        render();
      });
      tr.cells2.select.append(box);
      tr.bulkBox = box;
      boxes.set(row.id, box);
    },
    update(tr, row, s) {
      tr.bulkBox.hidden = !canEdit(s.store);
      tr.bulkBox.checked = allMatching || selected.has(row.id);
    },
  };
  return { el, part };
}
