// app.js: what both pages share: the header (store switcher, connection
// indicator, refresh, logout), the outage banner and sync notifications,
// the login flow, deep links (`?store=s2&page=3&sort=price&dir=desc&q=…`,
// kept in the address bar as the user moves) and the sync client's
// lifetime. Each page passes `mount`, which builds its own views. It also
// registers the service worker (sw.js) and remembers the last login answer,
// so a page opened without a network starts with the cached data, marked
// stale by the outage banner, instead of a login form it cannot submit.

import { h, replace, uniqueId } from './dom.js';
import { createApi, ApiError } from './api.js';
import { createSyncClient, DEFAULT_VIEW } from './sync-client.js';
import { connectionIndicator, createAnnouncer, outageBanner, refreshButton } from './views/status.js';
import { notifications } from './views/notify.js';
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

const ME_KEY = 'storesync:me';

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
  const banner = h('div', { class: 'banner-slot' });
  const main = h('main', { id: 'main' });
  const toasts = h('div', { class: 'toast-slot' });
  document.body.replaceChildren(
    h('a', { class: 'skip', href: '#main', text: 'Skip to content' }),
    h('header', { class: 'top' },
      h('h1', { text: title }),
      h('nav', { 'aria-label': 'Pages' }, h('a', { href: other.href, text: other.text })),
      headerTools),
    banner, main, toasts, announcer.el);

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
    localStorage.removeItem(ME_KEY);
    banner.replaceChildren();
    toasts.replaceChildren();
    showLogin();
  }

  function start(me) {
    localStorage.setItem(ME_KEY, JSON.stringify(me));
    const stores = me.stores ?? [];
    if (!stores.length) {
      replace(main, h('p', { class: 'card', text: 'Your account has no store.' }));
      return;
    }
    const link = readDeepLink();
    const last = link.store ?? localStorage.getItem('storesync:last-store');
    const store = stores.some((s) => s.slug === last) ? last : stores[0].slug;
    client = createSyncClient({ user: me.user.username, store, follow, ...(link.view ? { view: link.view } : {}) });
    client.state.subscribe((s, reason) => {
      if (['switch', 'view', 'page', 'snapshot'].includes(reason)) writeDeepLink(s);
    });
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
      // Before the client starts, its store is the one chosen above.
      const current = client.state.get().store ?? store;
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
      refreshButton(client, announcer.announce, main),
      ...(me.user.is_admin || stores.some((s) => s.role === 'admin') ? [h('a', { href: '/manage', text: 'Manage' })] : []),
      h('span', { class: 'who', text: me.user.username }),
      h('button', { type: 'button', text: 'Log out', on: { click: logout } }));

    banner.replaceChildren(outageBanner(client));
    toasts.replaceChildren(notifications(client));
    main.replaceChildren();
    mount({ client, api, me, announce: announcer.announce, root: main });
    client.start();
  }

  registerShell();
  let me = null;
  try {
    me = await api.me();
  } catch (err) {
    // Refused: log in. Unreachable: start from the last login answer.
    me = err instanceof ApiError ? null : cachedMe();
  }
  if (me) start(me);
  else showLogin();
}

/** The last login answer this browser saw, or null. */
function cachedMe() {
  try {
    const me = JSON.parse(localStorage.getItem(ME_KEY) ?? 'null');
    return me?.user && Array.isArray(me.stores) ? me : null;
  } catch {
    return null;
  }
}

/**
 * Registers the service worker and hands it the files this page loaded, so
 * the next start without a network finds all of them.
 */
function registerShell() {
  const sw = globalThis.navigator?.serviceWorker;
  if (!sw) return;
  sw.register('/sw.js')
    .then(() => sw.ready)
    .then((reg) => {
      const shell = [location.pathname, ...performance.getEntriesByType('resource').map((e) => e.name)];
      reg.active?.postMessage({ shell });
    })
    .catch(() => { /* no offline start then; the page works as before */ });
}

/** View fields a link may set, and how to read them. */
const LINK_FIELDS = { page: Number, page_size: Number, sort: String, dir: String, q: String, status: String };

/**
 * The store and product view a link asks for (`?store=s2&page=3&sort=price`).
 * @returns {{store: string|null, view: object|null}}
 */
function readDeepLink() {
  const params = new URLSearchParams(globalThis.location?.search ?? '');
  const view = {};
  for (const [k, parse] of Object.entries(LINK_FIELDS)) {
    const v = params.get(k);
    if (v !== null && v !== '') view[k] = parse(v);
  }
  for (const k of ['page', 'page_size']) if (k in view && !(Number.isInteger(view[k]) && view[k] > 0)) delete view[k];
  return { store: params.get('store'), view: Object.keys(view).length ? { ...DEFAULT_VIEW, ...view } : null };
}

/** Keeps the address bar on what is shown, so it can be shared or bookmarked. */
function writeDeepLink(s) {
  if (!s.store || !globalThis.history) return;
  const params = new URLSearchParams({ store: s.store });
  for (const k of Object.keys(LINK_FIELDS)) {
    if (s.view[k] !== undefined && s.view[k] !== DEFAULT_VIEW[k]) params.set(k, String(s.view[k]));
  }
  const url = `${location.pathname}?${params}`;
  if (url !== `${location.pathname}${location.search}`) history.replaceState(null, '', url);
}
