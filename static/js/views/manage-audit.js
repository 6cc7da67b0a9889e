// views/manage-audit.js: the audit log on /manage (global admins): the
// newest admin changes (who, what, on what, when), with "Older" paging.

import { h } from '../dom.js';

const PAGE = 50;

/**
 * @param {{api: any}} ctx
 * @returns {{el: HTMLElement, load: () => Promise<void>}}
 */
export function auditPanel(ctx) {
  const rows = h('tbody');
  let oldest = null;
  const older = h('button', { type: 'button', class: 'small', text: 'Older', on: { click: () => more() } });

  function row(e) {
    const details = Object.keys(e.details ?? {}).length ? JSON.stringify(e.details) : '';
    return h('tr', { dataset: { action: e.action } },
      h('td', {}, h('time', { datetime: e.at, text: new Date(e.at).toLocaleString() })),
      h('td', { text: e.actor }),
      h('td', { text: e.action }),
      h('td', { text: e.target }),
      h('td', { text: details }));
  }

  async function page(before) {
    const query = before ? `?limit=${PAGE}&before=${before}` : `?limit=${PAGE}`;
    const entries = await ctx.api.request('GET', `/admin/audit${query}`);
    oldest = entries.length ? entries[entries.length - 1].id : oldest;
    older.hidden = entries.length < PAGE;
    return entries.map(row);
  }

  async function more() {
    rows.append(...await page(oldest));
  }

  const el = h('section', { class: 'card', 'aria-labelledby': 'audit-title' },
    h('h2', { id: 'audit-title', text: 'Audit log' }),
    // Focusable, so a keyboard can scroll a wide log sideways.
    h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Audit log entries' }, h('table', { class: 'products manage' },
      h('caption', { class: 'visually-hidden', text: 'Admin changes, newest first' }),
      h('thead', {}, h('tr', {}, ...['When', 'Who', 'What', 'On', 'Details'].map((t) => h('th', { scope: 'col', text: t })))),
      rows)),
    older);

  async function load() {
    rows.replaceChildren(...await page(null));
  }
  return { el, load };
}
