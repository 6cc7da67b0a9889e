// views/keyed.js: a list of nodes keyed by product id (the table's rows,
// the storefront's cards). A render creates the nodes of new products,
// patches only the ones whose data changed, moves them into order and drops
// the rest, so one live edit touches one node however long the page is.

/**
 * @typedef {object} KeyedList
 * @property {(rows: any[], s: any) => void} render
 * @property {(id: number) => any} get the node of a product on the page
 * @property {() => void} invalidate the next render patches every node (currency or role changed)
 */

/**
 * @param {HTMLElement} parent where the nodes go
 * @param {object} parts
 * @param {(row: any) => any} parts.create a new node for a product
 * @param {(node: any, row: any, s: any) => void} parts.update patches a node from fresh data
 * @param {(s: any) => string} [parts.context] what else the nodes show (currency, queue):
 *   a node is patched when its row or this changed
 * @returns {KeyedList}
 */
export function createKeyedList(parent, { create, update, context = () => '' }) {
  /** @type {Map<number, any>} */
  const nodes = new Map();
  let generation = 0;

  function render(rows, s) {
    const keep = new Set();
    let cursor = parent.firstChild;
    for (const row of rows) {
      let node = nodes.get(row.id);
      if (!node) {
        node = create(row);
        nodes.set(row.id, node);
      }
      keep.add(row.id);
      const ctx = `${generation}|${context(s, row)}`;
      if (node.rowData !== row && !sameRow(node.rowData, row)) update(node, row, s);
      else if (node.context !== ctx) update(node, row, s);
      node.rowData = row;
      node.context = ctx;
      // A node may carry trailing siblings (a note under a table row).
      for (const el of [node, ...(node.trailing ?? [])]) {
        if (el !== cursor) parent.insertBefore(el, cursor);
        cursor = el.nextSibling;
      }
    }
    for (const [id, node] of nodes) {
      if (!keep.has(id)) {
        node.remove();
        for (const el of node.trailing ?? []) el.remove();
        nodes.delete(id);
      }
    }
  }

  return {
    render,
    get: (id) => nodes.get(id),
    invalidate: () => { generation += 1; },
  };
}

/** Two product rows with the same fields (a refetched page repeats unchanged rows). */
function sameRow(a, b) {
  if (!a || !b) return false;
  const keys = Object.keys(b);
  return keys.length === Object.keys(a).length && keys.every((k) => a[k] === b[k]);
}
