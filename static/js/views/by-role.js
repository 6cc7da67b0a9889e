// views/by-role.js: mounts the admin page's editing or read-only views by
// the user's role on the store the page shows, not on any store: a viewer
// of s1 who edits s2 reads s1 and edits s2. The roles are the server's
// latest store list (`hello`, then each `stores` frame, sent when a grant is
// given, changed or taken), or the login answer before it arrives; the
// choice is made again on a store switch and on each list. Switching views
// drops the old ones' listeners, so no detached view keeps reacting to the
// client.

/** Roles that may write products, sales and the dashboard. */
export const EDIT_ROLES = ['editor', 'admin'];

/**
 * The user's role on store `slug`: from the server's latest store list, or
 * the login answer before it arrives.
 */
export function roleOn(client, me, slug) {
  const listed = client.state.get().stores;
  const stores = listed.length ? listed : me.stores ?? [];
  return stores.find((x) => x.slug === slug)?.role;
}

/** State changes that can change the role on the store shown. */
const ROLE_CHANGES = new Set(['switch', 'hello', 'stores']);

/**
 * The client as views see it, with every listener and state subscription
 * they add removed when `signal` aborts; after that its state reads as
 * `stopped`, which ends the views' own timers (health polling).
 * @param {import('../sync-client.js').SyncClient} client
 * @param {AbortSignal} signal
 */
function scopedClient(client, signal) {
  const state = {
    ...client.state,
    get: () => (signal.aborted ? { ...client.state.get(), connection: 'stopped' } : client.state.get()),
    subscribe(fn) {
      const off = client.state.subscribe(fn);
      signal.addEventListener('abort', off, { once: true });
      return off;
    },
  };
  const addEventListener = (type, fn, opts) => client.addEventListener(type, fn,
    { ...(typeof opts === 'object' ? opts : { capture: Boolean(opts) }), signal });
  return new Proxy(client, {
    get(target, key) {
      if (key === 'state') return state;
      if (key === 'addEventListener') return addEventListener;
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Mounts `editing(ctx)` or `readOnly(ctx)` into `ctx.root` for the store
 * shown, and again whenever the role there changes.
 * @param {import('../app.js').PageContext} ctx
 * @param {{editing: (ctx: any) => void, readOnly: (ctx: any) => void}} views
 */
export function mountByRole(ctx, { editing, readOnly }) {
  const { client, me, root } = ctx;
  let shown = null;
  let scope = null;
  const canEdit = () => Boolean(me.user.is_admin) || EDIT_ROLES.includes(roleOn(client, me, client.state.get().store));
  const show = () => {
    const edit = canEdit();
    if (edit === shown) return;
    shown = edit;
    scope?.abort();
    scope = new AbortController();
    root.replaceChildren();
    (edit ? editing : readOnly)({ ...ctx, client: scopedClient(client, scope.signal) });
  };
  show();
  client.state.subscribe((s, reason) => {
    if (ROLE_CHANGES.has(reason)) show();
  });
}
