// views/manage-tokens.js: API tokens on /manage (global admins): the list
// (never the secrets), revoke, and the form that issues a token with a
// role, stores and an expiry. The new secret is shown once, with a copy
// button; the server keeps only its hash.

import { h, uniqueId } from '../dom.js';

/**
 * @param {import('../manage.js').ManageContext} ctx
 * @returns {{el: HTMLElement, load: () => Promise<void>}}
 */
export function tokensPanel(ctx) {
  const rows = h('tbody');
  const storeBoxes = h('fieldset', { class: 'inline-form' }, h('legend', { text: 'Stores' }));
  const secret = h('input', { readonly: true, 'aria-label': 'New token (shown once)', size: 66, class: 'secret' });
  const copy = h('button', { type: 'button', class: 'small', text: 'Copy', on: { click: async () => {
    try {
      await navigator.clipboard.writeText(secret.value);
      ctx.say('Token copied.');
    } catch {
      secret.select();
      ctx.say('Select the token and copy it.');
    }
  } } });
  const reveal = h('div', { class: 'notice', hidden: true, role: 'status' },
    h('p', { text: 'The token, shown once only: store it now.' }), secret, ' ', copy);
  let slugsById = new Map();

  function row(token) {
    const stores = token.store_ids.split(',').map((id) => slugsById.get(Number(id)) ?? `#${id}`).join(', ');
    return h('tr', { dataset: { token: String(token.id) } },
      h('th', { scope: 'row', text: token.name }),
      h('td', { text: token.role }),
      h('td', { text: stores }),
      h('td', { text: token.expires_at ?? 'never' }),
      h('td', { text: token.revoked ? 'revoked' : 'active' }),
      h('td', {}, token.revoked ? null : h('button', { type: 'button', class: 'small danger', text: 'Revoke', on: { click: () =>
        ctx.run(`Revoked ${token.name}.`, () => ctx.api.request('DELETE', `/admin/tokens/${token.id}`)) } })));
  }

  const nameId = uniqueId('token-name');
  const roleId = uniqueId('token-role');
  const daysId = uniqueId('token-days');
  const form = h('form', { class: 'inline-form', 'aria-label': 'New API token' },
    h('label', { for: nameId, text: 'Name' }), h('input', { id: nameId, name: 'name', required: true, maxlength: 100 }),
    h('label', { for: roleId, text: 'Role' }),
    h('select', { id: roleId, name: 'role' }, ...['viewer', 'editor', 'admin'].map((r) => h('option', { value: r, text: r }))),
    storeBoxes,
    h('label', { for: daysId, text: 'Expires in days (empty: never)' }),
    h('input', { id: daysId, name: 'days', type: 'number', min: 0, max: 3650 }),
    h('button', { type: 'submit', text: 'Create token' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const stores = [...storeBoxes.querySelectorAll('input:checked')].map((b) => b.value);
    const body = { name: form.name.value, role: form.role.value, stores };
    if (form.days.value !== '') body.expires_in_days = Number(form.days.value);
    ctx.run(`Created token ${body.name}.`, async () => {
      const created = await ctx.api.request('POST', '/admin/tokens', { body });
      secret.value = created.token;
      reveal.hidden = false;
      form.reset();
    });
  });

  const el = h('section', { class: 'card', 'aria-labelledby': 'tokens-title' },
    h('h2', { id: 'tokens-title', text: 'API tokens' }),
    reveal,
    h('div', { class: 'table-wrap' }, h('table', { class: 'products manage' },
      h('caption', { class: 'visually-hidden', text: 'API tokens' }),
      h('thead', {}, h('tr', {}, ...['Name', 'Role', 'Stores', 'Expires', 'State', 'Actions']
        .map((t) => h('th', { scope: 'col', text: t })))),
      rows)),
    h('h3', { text: 'New token' }), form);

  async function load() {
    const [tokens, stores] = await Promise.all([ctx.api.request('GET', '/admin/tokens'), ctx.api.request('GET', '/admin/stores')]);
    slugsById = new Map(stores.map((s) => [s.id, s.slug]));
    const checked = new Set([...storeBoxes.querySelectorAll('input:checked')].map((b) => b.value));
    storeBoxes.replaceChildren(h('legend', { text: 'Stores' }), ...stores.filter((s) => !s.archived).map((s) => {
      const id = uniqueId('token-store');
      return h('span', { class: 'field-inline' },
        h('input', { id, type: 'checkbox', value: s.slug, checked: checked.has(s.slug) }), h('label', { for: id, text: s.slug }));
    }));
    rows.replaceChildren(...tokens.map(row));
  }
  return { el, load };
}
