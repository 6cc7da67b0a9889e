// manage.js: the "Manage" page (/manage): stores, users and their grants,
// API tokens and the audit log, over the admin REST routes. Global admins
// see every panel; a store admin manages the grants of their own stores.
// Each panel is a view module; after any change every panel reloads, so
// the page always shows what the server holds.

import { h, replace } from './dom.js';
import { createApi } from './api.js';
import { loginForm } from './views/login.js';
import { createAnnouncer } from './views/status.js';
import { storesPanel } from './views/manage-stores.js';
import { usersPanel } from './views/manage-users.js';
import { tokensPanel } from './views/manage-tokens.js';
import { auditPanel } from './views/manage-audit.js';

const api = createApi();
const announcer = createAnnouncer();
const main = h('main', { id: 'main' });
document.body.replaceChildren(
  h('a', { class: 'skip', href: '#main', text: 'Skip to content' }),
  h('header', { class: 'top' },
    h('h1', { text: 'storesync: manage' }),
    h('nav', { 'aria-label': 'Pages' }, h('a', { href: '/admin', text: 'Admin' }), ' ', h('a', { href: '/storefront', text: 'Storefront' }))),
  main, announcer.el);

/** Builds the panels the user may use and loads them. @param {any} me */
function start(me) {
  const status = h('p', { class: 'form-status', role: 'status', id: 'manage-status' });
  const panels = [];
  const ctx = {
    api,
    me,
    /** Reports an outcome on the page and to screen readers. @param {string} msg */
    say(msg) {
      status.textContent = msg;
      announcer.announce(msg);
    },
    /** Reloads every panel after a change. */
    async changed() {
      await Promise.all(panels.map((p) => p.load()));
    },
  };
  const globalAdmin = me.user.is_admin;
  if (globalAdmin) panels.push(storesPanel(ctx));
  panels.push(usersPanel(ctx));
  if (globalAdmin) panels.push(tokensPanel(ctx), auditPanel(ctx));
  replace(main, status, ...panels.map((p) => p.el));
  ctx.changed().catch((err) => ctx.say(`Loading failed: ${err.message}`));
}

function showLogin() {
  replace(main, loginForm(api, start));
  main.querySelector('input')?.focus();
}

try {
  start(await api.me());
} catch {
  showLogin();
}
