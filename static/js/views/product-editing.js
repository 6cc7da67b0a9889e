// views/product-editing.js: what makes a product row editable (admin page).
// Cells show values; clicking one (or Enter on it) opens an input in place:
// Enter or leaving the field saves, Escape cancels. The edit remembers the
// version it started from and sends it as If-Match, so a concurrent change
// becomes a conflict rather than a silent overwrite. While a field is open,
// a live change to it updates the field when the user has not typed
// anything; when they have, the row says who changed it and offers "Keep
// mine" or "Take theirs" (guarded by tests/browser/editing.test.js).

import { h, setText } from '../dom.js';
import { formatMoney, moneyInputValue, parseMoney } from '../format.js';
import { STATUSES, renderStock } from './product-table.js';

const MAX_AUTHORS = 1000;

/**
 * The editable fields: how to show a value in the cell and in an input.
 * @type {Record<string, {label: string, show: (row: any, cur: string, el: HTMLElement) => void, value: (row: any, cur: string) => string}>}
 */
const FIELDS = {
  name: { label: 'Name', show: (row, cur, el) => setText(el, row.name), value: (row) => row.name },
  price: { label: 'Price', show: (row, cur, el) => setText(el, formatMoney(row.price, cur)), value: (row, cur) => moneyInputValue(row.price, cur) },
  stock: { label: 'Stock', show: (row, cur, el) => renderStock(el, row.stock), value: (row) => String(row.stock) },
  status: { label: 'Status', show: () => {}, value: (row) => row.status },
};

/**
 * Creates the editing half of the table's rows.
 * @param {import('../sync-client.js').SyncClient} client
 * @param {import('./products.js').ProductActions} actions
 * @returns {import('./product-table.js').RowEditor}
 */
export function createRowEditor(client, actions) {
  const currency = () => client.state.get().info?.currency;
  // Who made the latest change of each product, for "changed by …".
  const authors = new Map();
  client.addEventListener('event', (ev) => {
    const e = ev.detail.event;
    if (!e.kind.startsWith('product.')) return;
    authors.delete(e.entity_id);
    authors.set(e.entity_id, e.by.replace(/^user:/, ''));
    if (authors.size > MAX_AUTHORS) authors.delete(authors.keys().next().value);
  });

  /** The read-only value of a field: a button that opens the editor. */
  function cellButton(tr, row, key) {
    const value = key === 'status' ? tr.statusBadge : h('span', { class: 'cell-value' });
    const button = h('button', { type: 'button', class: 'cell-edit', dataset: { field: key } },
      value, h('span', { class: 'visually-hidden', text: ` – edit ${FIELDS[key].label.toLowerCase()} of ${row.sku}` }));
    button.addEventListener('click', () => open(tr, key));
    tr.cells2[key].append(button);
    return { button, value };
  }

  /** Opens the input of `key` in its cell. */
  function open(tr, key) {
    if (tr.editing) close(tr);
    const row = tr.rowData;
    const cur = currency();
    const label = `${FIELDS[key].label} of ${row.sku}`;
    const input = key === 'status'
      ? h('select', { 'aria-label': label, dataset: { field: key } }, ...STATUSES.map((s) => h('option', { value: s, text: s })))
      : h('input', {
        'aria-label': label, dataset: { field: key }, autocomplete: 'off',
        ...(key === 'stock' ? { type: 'number', min: '0', class: 'narrow' }
          : key === 'price' ? { type: 'text', inputmode: 'decimal', size: '8' } : { type: 'text', maxlength: '200' }),
      });
    input.value = FIELDS[key].value(row, cur);
    const session = { key, input, initial: input.value, base: row.version };
    tr.editing = session;
    tr.fields[key].button.hidden = true;
    tr.cells2[key].append(input);
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        commit(tr, session);
      } else if (ev.key === 'Escape') {
        close(tr, { focus: true });
      }
    });
    if (key === 'status') input.addEventListener('change', () => commit(tr, session));
    input.addEventListener('blur', (ev) => {
      // Choosing "keep mine" or "take theirs" in the row's note is not leaving the edit.
      if (tr.trailing?.some((n) => n.contains(ev.relatedTarget))) return;
      if (tr.editing === session) commit(tr, session, { focus: false });
    });
    input.focus();
    if (input.select) input.select();
  }

  /** Closes the open editor of a row, showing the row's current data. */
  function close(tr, { focus = false } = {}) {
    const session = tr.editing;
    if (!session) return;
    tr.editing = null;
    session.input.remove();
    tr.setNote(null);
    const { button } = tr.fields[session.key];
    button.hidden = false;
    if (focus) button.focus();
  }

  /** Saves the open field (when it changed and parses). */
  function commit(tr, session, { focus = true } = {}) {
    const cur = currency();
    if (session.input.value === session.initial) {
      close(tr, { focus });
      return;
    }
    const fields = parse(session.key, session.input.value, cur);
    if (!fields) {
      session.input.setAttribute('aria-invalid', 'true');
      return;
    }
    const row = tr.rowData;
    close(tr, { focus });
    // Show what was typed until the server's answer (or the live update) arrives.
    const shown = { ...row, ...fields };
    showField(tr, session.key, shown, cur);
    tr.cells2[session.key].classList.add('saving');
    actions.edit(row, fields, session.base).then((r) => {
      tr.cells2[session.key].classList.remove('saving');
      if (!r?.ok && !r?.queued) showField(tr, session.key, tr.rowData, currency());
    });
  }

  function showField(tr, key, row, cur) {
    if (key === 'status') setText(tr.statusBadge, row.status);
    else FIELDS[key].show(row, cur, tr.fields[key].value);
  }

  /** A live change reached a field being edited. */
  function liveChange(tr, session, row, cur) {
    const theirs = FIELDS[session.key].value(row, cur);
    if (session.input.value === session.initial) {
      // Nothing typed yet: show the new value and edit from it.
      session.input.value = theirs;
      session.initial = theirs;
      session.base = row.version;
      return;
    }
    const shown = session.key === 'price' ? formatMoney(row.price, cur) : theirs;
    const keepMine = h('button', { type: 'button', text: 'Keep mine' });
    const takeTheirs = h('button', { type: 'button', class: 'secondary', text: 'Take theirs' });
    const text = h('p');
    const note = h('div', { class: 'row-alert changed', role: 'alert', dataset: { productId: String(row.id) } },
      text, h('div', { class: 'alert-actions' }, keepMine, takeTheirs));
    // The client announces the change's author right after the state it
    // changed, so the name is looked up once this update is through.
    queueMicrotask(() => {
      const who = authors.get(row.id) ?? 'someone else';
      setText(text, `${FIELDS[session.key].label} changed by ${who} to ${shown} while you were editing.`);
    });
    keepMine.addEventListener('click', () => {
      // Saving now overwrites their value knowingly: edit against their version.
      session.base = row.version;
      tr.setNote(null);
      session.input.focus();
    });
    takeTheirs.addEventListener('click', () => {
      session.input.value = theirs;
      session.initial = theirs;
      session.base = row.version;
      tr.setNote(null);
      session.input.focus();
    });
    tr.setNote(note);
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
    tr.fields = {};
    tr.editing = null;
    for (const key of Object.keys(FIELDS)) tr.fields[key] = cellButton(tr, row, key);
    buildActions(tr, row);
  }

  function update(tr, row, s) {
    const cur = s.info?.currency;
    const old = tr.rowData;
    for (const key of Object.keys(FIELDS)) {
      if (key !== 'status') FIELDS[key].show(row, cur, tr.fields[key].value);
      tr.cells2[key].classList.remove('saving');
    }
    const session = tr.editing;
    if (session && old && old.version !== row.version) {
      if (old[session.key] !== row[session.key]) liveChange(tr, session, row, cur);
      // Another field changed: this edit overwrites nothing the user has not seen.
      else session.base = row.version;
    }
    tr.unimage.disabled = !row.image;
    const pending = s.pending.some((m) => m?.productId === row.id);
    tr.pendingBadge.hidden = !pending;
    tr.classList.toggle('pending', pending);
  }

  /** Resets a product's open field to the server's value (after "Keep theirs" on a conflict). */
  function reset(tr) {
    close(tr);
    update(tr, tr.rowData, client.state.get());
  }

  return { build, update, reset };
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
  if (key === 'status') return STATUSES.includes(value) ? { status: value } : null;
  return null;
}
