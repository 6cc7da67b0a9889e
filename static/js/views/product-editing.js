// views/product-editing.js: what makes a product row editable (admin page):
// name, price and stock inputs and the status select, each remembering the
// version the user started from, and the image and delete buttons. An input
// being edited is never overwritten by a live update under the cursor.

import { h } from '../dom.js';
import { formatMoney, moneyInputValue, parseMoney } from '../format.js';
import { STATUSES } from './product-table.js';

/**
 * Creates the editing half of the table's rows.
 * @param {import('../sync-client.js').SyncClient} client
 * @param {import('./products.js').ProductActions} actions
 * @returns {import('./product-table.js').RowEditor}
 */
export function createRowEditor(client, actions) {
  const currency = () => client.state.get().info?.currency;

  /** A text or number input of one field that saves on `change`. */
  function input(row, key, attrs, toValue) {
    const el = h('input', { ...attrs, 'aria-label': `${attrs['aria-label']} of ${row.sku}`, dataset: { field: key } });
    // The version the user saw when starting to edit: sending it as If-Match
    // turns a concurrent change into a conflict rather than a silent overwrite.
    el.addEventListener('focus', () => { el.dataset.baseVersion = String(rowData(el).version); });
    el.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        el.value = toValue(rowData(el));
        el.blur();
      }
    });
    el.addEventListener('change', () => {
      const data = rowData(el);
      const fields = parse(key, el.value, currency());
      if (!fields) {
        el.setAttribute('aria-invalid', 'true');
        return;
      }
      el.removeAttribute('aria-invalid');
      const base = Number(el.dataset.baseVersion || data.version);
      delete el.dataset.baseVersion;
      actions.edit(data, fields, base);
    });
    return el;
  }

  /** The field controls (`tr.inputs`), put into their cells. */
  function buildFields(tr, row) {
    tr.inputs = {
      name: input(row, 'name', { type: 'text', 'aria-label': 'Name', maxlength: '200', required: true }, (r) => r.name),
      price: input(row, 'price', { type: 'text', inputmode: 'decimal', 'aria-label': 'Price', size: '8' }, (r) => moneyInputValue(r.price, currency())),
      stock: input(row, 'stock', { type: 'number', min: '0', 'aria-label': 'Stock', class: 'narrow' }, (r) => String(r.stock)),
    };
    const statusSel = h('select', { 'aria-label': `Status of ${row.sku}`, dataset: { field: 'status' } },
      ...STATUSES.map((s) => h('option', { value: s, text: s })));
    statusSel.addEventListener('focus', () => { statusSel.dataset.baseVersion = String(tr.rowData.version); });
    statusSel.addEventListener('change', () => {
      const base = Number(statusSel.dataset.baseVersion || tr.rowData.version);
      actions.edit(tr.rowData, { status: statusSel.value }, base);
    });
    tr.inputs.status = statusSel;
    tr.cells2.name.append(tr.inputs.name);
    tr.cells2.price.append(tr.inputs.price);
    tr.cells2.stock.append(tr.inputs.stock);
    tr.cells2.status.append(statusSel);
  }

  /** The Actions cell: image upload and removal, two-step delete, the queued badge. */
  function buildActions(tr, row) {
    const file = h('input', { type: 'file', accept: 'image/*', class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true', dataset: { field: 'image-file' } });
    file.addEventListener('change', () => {
      if (file.files?.[0]) actions.uploadImage(tr.rowData, file.files[0]).finally(() => { file.value = ''; });
    });
    const upload = h('button', { type: 'button', class: 'small', 'aria-label': `Upload image for ${row.sku}`, text: 'Upload', on: { click: () => file.click() } });
    const unimage = h('button', { type: 'button', class: 'small', 'aria-label': `Remove image of ${row.sku}`, text: 'Remove', dataset: { action: 'remove-image' }, on: { click: () => actions.removeImage(tr.rowData) } });
    // Two steps instead of confirm(): a modal dialog blocks live updates.
    const del = h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete ${row.sku}`, text: 'Delete', dataset: { action: 'delete' } });
    del.addEventListener('click', () => {
      if (del.dataset.armed) {
        actions.remove(tr.rowData, tr.rowData.version);
        return;
      }
      del.dataset.armed = 'true';
      del.textContent = 'Confirm delete';
      setTimeout(() => { delete del.dataset.armed; del.textContent = 'Delete'; }, 4000);
    });
    tr.unimage = unimage;
    tr.pendingBadge = h('span', { class: 'badge', text: 'queued', hidden: true });
    tr.cells2.actions.append(upload, file, unimage, del, tr.pendingBadge);
  }

  function build(tr, row) {
    buildFields(tr, row);
    buildActions(tr, row);
  }

  function update(tr, row, s) {
    const cur = s.info?.currency;
    // Never under the cursor: a focused control keeps what the user typed.
    const put = (el, value) => {
      if (document.activeElement !== el && el.value !== value) el.value = value;
    };
    put(tr.inputs.name, row.name);
    put(tr.inputs.price, moneyInputValue(row.price, cur));
    put(tr.inputs.stock, String(row.stock));
    put(tr.inputs.status, row.status);
    tr.unimage.disabled = !row.image;
    const pending = s.pending.some((m) => m?.productId === row.id);
    tr.pendingBadge.hidden = !pending;
    tr.classList.toggle('pending', pending);
    tr.cells2.price.dataset.value = String(row.price);
    tr.cells2.price.title = formatMoney(row.price, cur);
  }

  return { build, update };
}

/** The product a control's row currently shows. */
function rowData(el) {
  return el.closest('tr').rowData;
}

/** Parses an edited cell into PATCH fields, or null when invalid. */
function parse(key, value, currency) {
  if (key === 'name') {
    const name = value.trim();
    return name && name.length <= 200 ? { name } : null;
  }
  if (key === 'price') {
    const price = parseMoney(value, currency);
    return price === null ? null : { price };
  }
  if (key === 'stock') {
    const stock = Number(value);
    return Number.isSafeInteger(stock) && stock >= 0 ? { stock } : null;
  }
  return null;
}
