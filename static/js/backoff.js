// backoff.js: full-jitter exponential backoff for reconnects. Full jitter
// (a uniform pick below the exponential ceiling) spreads a crowd of clients
// that lost the same server, so they do not all come back in one burst.

/**
 * Delay before reconnect attempt number `attempt` (0-based).
 * @param {number} attempt
 * @param {number} [baseMs]
 * @param {number} [capMs]
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, baseMs = 500, capMs = 30_000) {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}
