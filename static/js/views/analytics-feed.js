// analytics-feed.js: the current store's analytics (GET
// /stores/{store}/analytics), shared by the analytics panel and the
// dashboard's "vs yesterday" cues. Reloaded when the store switches and on
// the live events that change its figures (sales, the dashboard, products),
// never polled: at most one request in flight, and changes that arrive
// meanwhile make one more request after it.

/** Event kinds after which the analytics may have changed. */
const RELOAD_ON = /^(sales\.updated|dashboard\.updated|product\.)/;

const feeds = new WeakMap();

/**
 * The one feed of a sync client.
 * @param {import('../sync-client.js').SyncClient} client
 * @returns {{ subscribe: (fn: (analytics: any|null) => void) => void, current: () => any|null, reload: () => void }}
 */
export function analyticsFeed(client) {
  let feed = feeds.get(client);
  if (!feed) {
    feed = createFeed(client);
    feeds.set(client, feed);
  }
  return feed;
}

function createFeed(client) {
  const listeners = new Set();
  let current = null;
  let inFlight = false;
  let again = false;
  let store = null;

  const publish = () => listeners.forEach((fn) => fn(current));

  async function reload() {
    if (inFlight) {
      again = true;
      return;
    }
    const slug = client.state.get().store;
    if (!slug) return;
    inFlight = true;
    try {
      const analytics = await client.api.request('GET', `/stores/${encodeURIComponent(slug)}/analytics`);
      // A switch while it loaded: the next load is the new store's.
      if (slug === client.state.get().store) {
        current = analytics;
        publish();
      }
    } catch {
      // Offline or no access (the storefront): the figures stay without cues.
    } finally {
      inFlight = false;
      if (again) {
        again = false;
        reload();
      }
    }
  }

  client.addEventListener('change', (ev) => {
    const slug = client.state.get().store;
    if (slug !== store) {
      store = slug;
      current = null;
      publish();
      reload();
    } else if (ev.detail.reason === 'snapshot') {
      // A fresh snapshot (a resync, a reconnect) may follow missed events.
      reload();
    }
  });
  client.addEventListener('event', (ev) => {
    if (RELOAD_ON.test(ev.detail.event.kind)) reload();
  });
  return {
    subscribe(fn) {
      listeners.add(fn);
      if (!store) {
        store = client.state.get().store;
        reload();
      } else fn(current);
    },
    current: () => current,
    reload,
  };
}
