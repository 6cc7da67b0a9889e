// dom.js: building DOM nodes from data without ever parsing data as HTML.
// Text goes in through textContent / text nodes only.

/**
 * Creates an element. `attrs`: `class`, `text` (textContent), `on` ({event:
 * handler}), `dataset`, boolean and string attributes; children are nodes or
 * strings (as text).
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, ...children);
  return el;
}

/**
 * Creates an SVG element (attributes only; text via textContent).
 * @param {string} tag
 * @param {Record<string, string|number>} [attrs]
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** @param {Node} el @param {...(Node|string|null|undefined|false)} children */
export function append(el, ...children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** Replaces an element's children. @param {Element} el @param {...any} children */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, ...children);
}

/** Sets textContent only when it changed, so unchanged cells keep their state. */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

let uid = 0;
/** A document-unique id for label/aria wiring. @param {string} prefix */
export function uniqueId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}
