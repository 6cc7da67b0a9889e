// views/manage-users.js: the people panel of /manage. Global admins create
// users (with a generated or a chosen password), reset passwords, make
// users global admins and disable them; every admin sets the grants of the
// stores they administer (none / viewer / editor / admin per store).

import { h, uniqueId } from '../dom.js';

const ROLES = ['viewer', 'editor', 'admin'];

/** A random password of 16 URL-safe characters. */
export function generatePassword() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_');
}

/**
 * @param {import('../manage.js').ManageContext} ctx
 * @returns {{el: HTMLElement, load: () => Promise<void>}}
 */
export function usersPanel(ctx) {
  const globalAdmin = ctx.me.user.is_admin;
  const rows = h('tbody');
  const head = h('tr');
  const table = h('table', { class: 'products manage' },
    h('caption', { class: 'visually-hidden', text: 'Users and grants' }), h('thead', {}, head), rows);
  const revealed = h('p', { class: 'notice', role: 'status', hidden: true });

  /** The grant select of one user on one store. */
  function grantSelect(user, slug) {
    const current = user.grants.find((g) => g.store === slug)?.role ?? '';
    const select = h('select', { 'aria-label': `Role of ${user.username} in ${slug}`, dataset: { store: slug } },
      h('option', { value: '', text: 'none' }), ...ROLES.map((r) => h('option', { value: r, text: r })));
    select.value = current;
    select.addEventListener('change', () => {
      const path = `/admin/users/${user.id}/grants/${encodeURIComponent(slug)}`;
      const role = select.value;
      ctx.run(`${user.username} is now ${role || 'without a role'} in ${slug}.`, () => (role
        ? ctx.api.request('PUT', path, { body: { role } })
        : ctx.api.request('DELETE', path)));
    });
    return select;
  }

  function flag(user, key, label) {
    const box = h('input', { type: 'checkbox', checked: user[key], 'aria-label': `${user.username} ${label}`, dataset: { flag: key } });
    box.addEventListener('change', () => ctx.run(`${user.username}: ${label} ${box.checked ? 'on' : 'off'}.`,
      () => ctx.api.request('PATCH', `/admin/users/${user.id}`, { body: { [key]: box.checked } })));
    return box;
  }

  function resetButton(user) {
    return h('button', { type: 'button', class: 'small', text: 'Reset password', on: { click: () => {
      const password = generatePassword();
      ctx.run(`Password of ${user.username} reset; their sessions ended.`, async () => {
        await ctx.api.request('PUT', `/admin/users/${user.id}/password`, { body: { password } });
        revealed.hidden = false;
        revealed.textContent = `New password of ${user.username} (shown once): ${password}`;
      });
    } } });
  }

  function row(user, stores) {
    return h('tr', { dataset: { user: user.username } },
      h('th', { scope: 'row', text: user.username }),
      ...(globalAdmin ? [h('td', {}, flag(user, 'is_admin', 'global admin')), h('td', {}, flag(user, 'disabled', 'disabled'))] : []),
      ...stores.map((slug) => h('td', {}, grantSelect(user, slug))),
      ...(globalAdmin ? [h('td', {}, resetButton(user))] : []));
  }

  const nameId = uniqueId('user-name');
  const passId = uniqueId('user-pass');
  const adminId = uniqueId('user-admin');
  const form = h('form', { class: 'inline-form', 'aria-label': 'New user' },
    h('label', { for: nameId, text: 'User name' }), h('input', { id: nameId, name: 'username', required: true, maxlength: 64 }),
    h('label', { for: passId, text: 'Password (8 or more characters)' }),
    h('input', { id: passId, name: 'password', required: true, minlength: 8, autocomplete: 'new-password' }),
    h('button', { type: 'button', class: 'small', text: 'Generate', on: { click: () => { form.password.value = generatePassword(); } } }),
    h('span', { class: 'field-inline' }, h('input', { id: adminId, type: 'checkbox', name: 'is_admin' }), h('label', { for: adminId, text: 'Global admin' })),
    h('button', { type: 'submit', text: 'Create user' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = { username: form.username.value, password: form.password.value, is_admin: form.is_admin.checked };
    ctx.run(`Created ${body.username}.`, async () => {
      await ctx.api.request('POST', '/admin/users', { body });
      revealed.hidden = false;
      revealed.textContent = `Password of ${body.username} (shown once): ${body.password}`;
      form.reset();
    });
  });

  const el = h('section', { class: 'card', 'aria-labelledby': 'users-title' },
    h('h2', { id: 'users-title', text: globalAdmin ? 'Users and grants' : 'Grants of your stores' }),
    h('p', { class: 'muted', text: 'Open sessions follow a grant change within seconds. A password reset or disabling ends the user\'s sessions.' }),
    revealed,
    h('div', { class: 'table-wrap' }, table),
    globalAdmin ? h('h3', { text: 'New user' }) : null, globalAdmin ? form : null);

  async function load() {
    const [users, stores] = await Promise.all([
      ctx.api.request('GET', '/admin/users'),
      globalAdmin ? ctx.api.request('GET', '/admin/stores') : Promise.resolve(ctx.me.stores.filter((s) => s.role === 'admin')),
    ]);
    const slugs = stores.map((s) => s.slug);
    head.replaceChildren(h('th', { scope: 'col', text: 'User' }),
      ...(globalAdmin ? [h('th', { scope: 'col', text: 'Global admin' }), h('th', { scope: 'col', text: 'Disabled' })] : []),
      ...slugs.map((s) => h('th', { scope: 'col', text: s })),
      ...(globalAdmin ? [h('th', { scope: 'col', text: 'Password' })] : []));
    rows.replaceChildren(...users.map((u) => row(u, slugs)));
  }
  return { el, load };
}
