// app.js: what both pages share: the header (store switcher, connection
// indicator, refresh, logout), the login flow, and the sync client's
// lifetime. Each page passes `mount`, which builds its own views.

import { h, replace, uniqueId } from './dom.js';
import { createApi } from './api.js';
import { createSyncClient } from './sync-client.js';
import { connectionIndicator, createAnnouncer } from './views/status.js';
import { loginForm } from './views/login.js';
import { describeEvent } from './views/describe.js';

/**
 * @typedef {object} PageContext
 * @property {import('./sync-client.js').SyncClient} client
 * @property {ReturnType<typeof createApi>} api
 * @property {any} me login answer: {user, stores}
 * @property {(msg: string) => void} announce
 * @property {HTMLElement} root where the page's views go
 */

/**
 * Boots a page.
 * @param {object} opts
 * @param {string} opts.title page heading
 * @param {{href: string, text: string}} opts.other link to the other page
 * @param {(ctx: PageContext) => void} opts.mount builds the page's views
 * @param {boolean} [opts.follow] subscribe with follow initially
 */
export async function boot({ title, other, mount, follow = false }) {
  const api = createApi();
  const announcer = createAnnouncer();
  const headerTools = h('div', { class: 'tools' });
  const main = h('main', { id: 'main' });
  document.body.replaceChildren(
    h('a', { class: 'skip', href: '#main', text: 'Skip to content' }),
    h('header', { class: 'top' },
      h('h1', { text: title }),
      h('nav', { 'aria-label': 'Pages' }, h('a', { href: other.href, text: other.text })),
      headerTools),
    main, announcer.el);

  let client = null;

  const showLogin = () => {
    headerTools.replaceChildren();
    replace(main, loginForm(api, start));
    main.querySelector('input')?.focus();
  };

  async function logout() {
    try {
      await api.logout();
    } catch { /* the cookie is cleared server-side at best; forget locally anyway */ }
    client?.stop();
    client?.clearStorage();
    client = null;
    showLogin();
  }

  function start(me) {
    const stores = me.stores ?? [];
    if (!stores.length) {
      replace(main, h('p', { class: 'card', text: 'Your account has no store.' }));
      return;
    }
    const last = localStorage.getItem('storesync:last-store');
    const store = stores.some((s) => s.slug === last) ? last : stores[0].slug;
    client = createSyncClient({ user: me.user.username, store, follow });
    client.addEventListener('unauthenticated', () => showLogin());
    client.addEventListener('event', (ev) => {
      const msg = describeEvent(ev.detail.event, client.state.get());
      if (msg) announcer.announce(msg);
    });

    const selectId = uniqueId('store');
    const label = (s) => `${s.name} (${s.currency})${s.archived ? ' [archived]' : ''}`;
    const select = h('select', { id: selectId, name: 'store' });
    // The switcher follows the server: `stores` frames replace the list, a
    // store.* event renames the current store's entry; a store no longer
    // listed (archived, deleted) is left for the first one.
    const renderStores = (list) => {
      select.replaceChildren(...list.map((s) => h('option', { value: s.slug, text: label(s) })));
      const current = client.state.get().store;
      if (list.some((s) => s.slug === current)) select.value = current;
      else if (list.length) {
        select.value = list[0].slug;
        client.switchStore(list[0].slug);
      }
    };
    renderStores(stores);
    client.addEventListener('change', (ev) => {
      const { reason, state } = ev.detail;
      if (reason === 'stores') renderStores(state.stores);
      const option = state.info && [...select.options].find((o) => o.value === state.info.slug);
      if (option && option.textContent !== label(state.info)) option.textContent = label(state.info);
    });
    client.addEventListener('store-ended', (ev) => {
      announcer.announce(`Store ${ev.detail.store} was ${ev.detail.reason === 'store_deleted' ? 'deleted' : 'archived'}.`);
    });
    select.addEventListener('change', () => {
      localStorage.setItem('storesync:last-store', select.value);
      client.switchStore(select.value);
      const info = stores.find((s) => s.slug === select.value);
      announcer.announce(`Showing ${info?.name ?? select.value}`);
    });
    headerTools.replaceChildren(
      h('span', { class: 'field-inline' }, h('label', { for: selectId, text: 'Store' }), select),
      connectionIndicator(client),
      h('button', { type: 'button', text: 'Refresh', on: { click: () => client.refresh() } }),
      ...(me.user.is_admin || stores.some((s) => s.role === 'admin') ? [h('a', { href: '/manage', text: 'Manage' })] : []),
      h('span', { class: 'who', text: me.user.username }),
      h('button', { type: 'button', text: 'Log out', on: { click: logout } }));

    main.replaceChildren();
    mount({ client, api, me, announce: announcer.announce, root: main });
    client.start();
  }

  try {
    start(await api.me());
  } catch {
    showLogin();
  }
}
