// manage.js: the "Manage" page (/manage): stores, users and their grants,
// API tokens, the audit log, and sync performance with the daily health
// reports, over the admin REST routes. Global admins
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
import { operationsPanel } from './views/manage-operations.js';

const api = createApi();
const announcer = createAnnouncer();
const main = h('main', { id: 'main' });
document.body.replaceChildren(
  h('a', { class: 'skip', href: '#main', text: 'Skip to content' }),
  h('header', { class: 'top' },
    h('h1', { text: 'storesync: manage' }),
    h('nav', { 'aria-label': 'Pages' }, h('a', { href: '/admin', text: 'Admin' }), ' ', h('a', { href: '/storefront', text: 'Storefront' }))),
  main, announcer.el);

/**
 * What every panel gets.
 * @typedef {object} ManageContext
 * @property {ReturnType<typeof createApi>} api
 * @property {any} me the login answer: {user, stores}
 * @property {(msg: string) => void} say
 * @property {() => Promise<void>} changed
 * @property {(what: string, call: () => Promise<any>) => Promise<void>} run
 */

/** Builds the panels the user may use and loads them. @param {any} me */
function start(me) {
  const status = h('p', { class: 'form-status', role: 'status', id: 'manage-status' });
  const panels = [];
  /** @type {ManageContext} */
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
    /** Runs a change; reports it (or the server's refusal) and reloads. */
    async run(what, call) {
      try {
        await call();
        ctx.say(what);
        await ctx.changed();
      } catch (err) {
        ctx.say(err.message);
      }
    },
  };
  const globalAdmin = me.user.is_admin;
  if (globalAdmin) panels.push(storesPanel(ctx));
  panels.push(usersPanel(ctx));
  if (globalAdmin) panels.push(tokensPanel(ctx), auditPanel(ctx));
  if (globalAdmin || me.stores.some((s) => s.role === 'admin')) panels.push(operationsPanel(ctx));
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
