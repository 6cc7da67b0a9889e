// format.js: money, numbers, percentages and times for display. Money is
// integer minor units on the wire; the number of minor digits depends on the
// currency (JPY has none), so it is asked of Intl rather than assumed.

const digitsCache = new Map();

/**
 * Minor-unit digits of an ISO 4217 currency (USD 2, JPY 0).
 * @param {string} currency
 * @returns {number}
 */
export function minorDigits(currency) {
  if (!digitsCache.has(currency)) {
    let digits = 2;
    try {
      digits = new Intl.NumberFormat('en', { style: 'currency', currency })
        .resolvedOptions().maximumFractionDigits;
    } catch { /* unknown code: keep 2 rather than fail the page */ }
    digitsCache.set(currency, digits);
  }
  return digitsCache.get(currency);
}

/**
 * Formats integer minor units in the store's currency and the user's locale.
 * @param {number} minor
 * @param {string} currency
 * @returns {string}
 */
export function formatMoney(minor, currency) {
  if (!Number.isFinite(minor) || !currency) return '–';
  const digits = minorDigits(currency);
  return new Intl.NumberFormat(undefined, { style: 'currency', currency })
    .format(minor / 10 ** digits);
}

/**
 * Parses what a user typed as a price ("12.50", "12,50", "1200") into minor
 * units; null when it is not a non-negative amount.
 * @param {string} text
 * @param {string} currency
 * @returns {number|null}
 */
export function parseMoney(text, currency) {
  const cleaned = String(text).trim().replace(/[^\d.,]/g, '');
  if (!/^\d+([.,]\d+)?$/.test(cleaned)) return null;
  const value = Number(cleaned.replace(',', '.'));
  const minor = Math.round(value * 10 ** minorDigits(currency));
  return Number.isSafeInteger(minor) ? minor : null;
}

/**
 * Major units for an input's value ("12.5" for 1250 cents).
 * @param {number} minor
 * @param {string} currency
 * @returns {string}
 */
export function moneyInputValue(minor, currency) {
  const digits = minorDigits(currency);
  return (minor / 10 ** digits).toFixed(digits);
}

/** @param {number} n @returns {string} */
export function formatNumber(n) {
  return Number.isFinite(n) ? new Intl.NumberFormat().format(n) : '–';
}

/**
 * Basis points as a percentage (158 → "1.58%"); `signed` adds "+".
 * @param {number|null|undefined} bp
 * @param {boolean} [signed]
 * @returns {string}
 */
export function formatBp(bp, signed = false) {
  if (!Number.isFinite(bp)) return '–';
  return new Intl.NumberFormat(undefined, {
    style: 'percent', maximumFractionDigits: 2, signDisplay: signed ? 'exceptZero' : 'auto',
  }).format(bp / 10_000);
}

/**
 * A ratio as a percentage, "–" when the denominator is zero.
 * @param {number} num
 * @param {number} den
 * @returns {string}
 */
export function formatRatio(num, den) {
  if (!den) return '–';
  return new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 })
    .format(num / den);
}

/**
 * A UTC timestamp as local time of day (or date and time when not today).
 * @param {string} iso
 * @returns {string}
 */
export function formatTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? d.toLocaleTimeString() : d.toLocaleString();
}
