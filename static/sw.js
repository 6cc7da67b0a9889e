// sw.js: the service worker that lets the pages open without a network. It
// keeps the shell (the pages, their modules, the stylesheet, the manifest
// and icons) and answers from the network first, from its copy only when the
// network fails, so an online page is never older than the server's files.
// The data shown offline is the sync client's own cache of the last
// snapshot, marked as stale by the page; the API, the WebSocket and media
// are never answered from here. Guarded by tests/browser/pwa.test.js.

const CACHE = 'storesync-shell-v1';
const SHELL = ['/', '/admin', '/storefront', '/css/app.css', '/manifest.webmanifest', '/icons/icon.svg', '/icons/icon-192.png', '/icons/icon-512.png'];

/** Same-origin files that belong to the shell. */
function isShell(url) {
  return url.origin === self.location.origin
    && (SHELL.includes(url.pathname) || url.pathname.startsWith('/js/') || url.pathname.startsWith('/css/'));
}

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// The page lists the modules it loaded (they may have loaded before this
// worker took control), so the next offline start finds all of them.
self.addEventListener('message', (event) => {
  const urls = Array.isArray(event.data?.shell) ? event.data.shell : [];
  const wanted = urls.map((u) => new URL(u, self.location.origin)).filter(isShell);
  event.waitUntil(caches.open(CACHE).then((cache) => Promise.all(wanted.map((u) => cache.add(u.pathname).catch(() => {})))));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || !isShell(url)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const fresh = await fetch(event.request);
      if (fresh.ok) await cache.put(url.pathname, fresh.clone());
      return fresh;
    } catch (err) {
      const kept = await cache.match(url.pathname);
      if (kept) return kept;
      throw err;
    }
  })());
});
