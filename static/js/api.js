// api.js: the REST calls the pages make, over same-origin fetch so the
// session cookie authenticates them and the browser's Origin header passes
// the server's CSRF check. The token never touches script-readable storage.

/** An answer other than 2xx, with the server's stable error code. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {any} [details]
   */
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * @typedef {object} RequestOptions
 * @property {any} [body] JSON body, or a Blob/File sent as is
 * @property {number} [ifMatch] product version for `If-Match`
 * @property {string} [idempotencyKey]
 * @property {AbortSignal} [signal]
 */

/**
 * Creates a small REST client.
 * @param {{base?: string, token?: string, fetch?: typeof fetch}} [opts]
 */
export function createApi({ base = '', token, fetch: fetchFn = globalThis.fetch.bind(globalThis) } = {}) {
  /**
   * Sends one request; resolves with the parsed JSON body (or null), rejects
   * with ApiError for HTTP errors and TypeError when the network failed.
   * @param {string} method
   * @param {string} path under /api/v1
   * @param {RequestOptions} [opts]
   */
  async function request(method, path, { body, ifMatch, idempotencyKey, signal } = {}) {
    const headers = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (ifMatch !== undefined) headers['if-match'] = `"${ifMatch}"`;
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    let payload;
    if (body instanceof Blob) {
      payload = body;
      headers['content-type'] = body.type || 'application/octet-stream';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetchFn(`${base}/api/v1${path}`, {
      method, headers, body: payload, signal, credentials: 'same-origin', cache: 'no-store',
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch { /* a proxy's HTML error page: reported below by status */ }
    if (!res.ok) {
      const err = json?.error ?? {};
      throw new ApiError(res.status, err.code ?? 'http_error', err.message ?? res.statusText, err.details);
    }
    return json;
  }

  const store = (slug) => `/stores/${encodeURIComponent(slug)}`;
  const query = (params) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const s = q.toString();
    return s ? `?${s}` : '';
  };

  return {
    request,
    me: () => request('GET', '/me'),
    login: (username, password) => request('POST', '/auth/login', { body: { username, password } }),
    logout: () => request('POST', '/auth/logout'),
    snapshot: (slug, view = {}) => request('GET', `${store(slug)}/snapshot${query(view)}`),
    products: (slug, view = {}) => request('GET', `${store(slug)}/products${query(view)}`),
    summary: (slug) => request('GET', `${store(slug)}/sales/summary`),
    events: (slug, params, signal) => request('GET', `${store(slug)}/events${query(params)}`, { signal }),
    health: () => request('GET', '/admin/health'),
    /** Paths of writes, for `client.write`. */
    paths: {
      products: (slug) => `${store(slug)}/products`,
      product: (slug, id) => `${store(slug)}/products/${id}`,
      image: (slug, id) => `${store(slug)}/products/${id}/image`,
      dashboard: (slug) => `${store(slug)}/dashboard`,
      sales: (slug) => `${store(slug)}/sales`,
    },
  };
}

/**
 * URL of a product image variant, or null without an image.
 * @param {string} slug
 * @param {string|null} hash
 * @param {'thumb'|'card'|'original'} variant
 * @returns {string|null}
 */
export function mediaUrl(slug, hash, variant) {
  return hash ? `/media/${encodeURIComponent(slug)}/${encodeURIComponent(hash)}/${variant}` : null;
}
