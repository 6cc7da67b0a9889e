// views/by-role.js: mounts the admin page's editing or read-only views by
// the user's role on the store the page shows, not on any store: a viewer
// of s1 who edits s2 reads s1 and edits s2. The choice is made again when
// the page switches stores and when the server sends a new store list
// (`stores` frame: a grant given or taken), after which the roles are read
// again from `GET /me`. Switching views drops the old ones' listeners, so
// no detached view keeps reacting to the client.

/** Roles that may write products, sales and the dashboard. */
const EDIT_ROLES = ['editor', 'admin'];

/** The user's role on store `slug` per a login answer, or null. */
function roleOn(me, slug) {
  return (me.stores ?? []).find((s) => s.slug === slug)?.role ?? null;
}

/** Whether the user may edit store `slug`. */
function canEdit(me, slug) {
  return Boolean(me.user.is_admin) || EDIT_ROLES.includes(roleOn(me, slug));
}

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
  const { client, api, root } = ctx;
  let me = ctx.me;
  let shown = null;
  let scope = null;
  const show = () => {
    const edit = canEdit(me, client.state.get().store);
    if (edit === shown) return;
    shown = edit;
    scope?.abort();
    scope = new AbortController();
    root.replaceChildren();
    (edit ? editing : readOnly)({ ...ctx, me, client: scopedClient(client, scope.signal) });
  };
  show();
  client.state.subscribe((s, reason) => {
    if (reason === 'switch') show();
  });
  client.addEventListener('change', async (ev) => {
    if (ev.detail.reason !== 'stores') return;
    try {
      me = await api.me();
    } catch {
      return; // offline or logged out: keep the roles known; the client reports the rest
    }
    show();
  });
}
