// format.js: money, numbers, percentages and times for display. Money is
// integer minor units on the wire; the number of minor digits depends on the
// currency (JPY has none), so it is asked of Intl rather than assumed.
// Intl formatters are created once per set of options and reused: building
// one costs far more than formatting with it, and a table formats thousands
// of cells.

const digitsCache = new Map();
const formatters = new Map();

/**
 * The shared Intl.NumberFormat for these options (user's locale).
 * @param {Intl.NumberFormatOptions} options
 * @returns {Intl.NumberFormat}
 */
function numberFormat(options) {
  const key = JSON.stringify(options);
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(undefined, options);
    formatters.set(key, f);
  }
  return f;
}

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
  return numberFormat({ style: 'currency', currency }).format(minor / 10 ** digits);
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

/**
 * Short money for axis labels ("$1.2K"); `minor` in minor units.
 * @param {number} minor
 * @param {string} currency
 * @returns {string}
 */
export function formatMoneyShort(minor, currency) {
  if (!Number.isFinite(minor) || !currency) return '–';
  return numberFormat({ style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 })
    .format(minor / 10 ** minorDigits(currency));
}

/** Short numbers for axis labels ("1.2K"). @param {number} n @returns {string} */
export function formatNumberShort(n) {
  return Number.isFinite(n) ? numberFormat({ notation: 'compact', maximumFractionDigits: 1 }).format(n) : '–';
}

/**
 * A local day ("2026-11-03") as a short date ("Nov 3"), or with the weekday.
 * @param {string} day
 * @param {boolean} [long] "Tue, Nov 3"
 * @returns {string}
 */
export function formatDay(day, long = false) {
  const d = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return day;
  const key = long ? 'long' : 'short';
  let f = dayFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC', ...(long ? { weekday: 'short' } : {}) });
    dayFormats.set(key, f);
  }
  return f.format(d);
}

const dayFormats = new Map();

/**
 * Bytes in kB, MB or GB (decimal units, like disk and network figures).
 * @param {number|null|undefined} bytes
 * @returns {string}
 */
export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return '–';
  const [unit, div] = bytes >= 1e9 ? ['GB', 1e9] : bytes >= 1e6 ? ['MB', 1e6] : bytes >= 1e3 ? ['kB', 1e3] : ['bytes', 1];
  return `${numberFormat({ maximumFractionDigits: div === 1 ? 0 : 1 }).format(bytes / div)} ${unit}`;
}

/** @param {number} n @returns {string} */
export function formatNumber(n) {
  return Number.isFinite(n) ? numberFormat({}).format(n) : '–';
}

/**
 * Basis points as a percentage (158 → "1.58%"); `signed` adds "+".
 * @param {number|null|undefined} bp
 * @param {boolean} [signed]
 * @returns {string}
 */
export function formatBp(bp, signed = false) {
  if (!Number.isFinite(bp)) return '–';
  return numberFormat({ style: 'percent', maximumFractionDigits: 2, signDisplay: signed ? 'exceptZero' : 'auto' })
    .format(bp / 10_000);
}

/**
 * A ratio as a percentage, "–" when the denominator is zero.
 * @param {number} num
 * @param {number} den
 * @returns {string}
 */
export function formatRatio(num, den) {
  if (!den) return '–';
  return numberFormat({ style: 'percent', maximumFractionDigits: 1 }).format(num / den);
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
