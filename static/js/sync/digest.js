// sync/digest.js: consistency checks. Some time after the last batch the
// client asks the server for the digest of the store at the seq it applied
// (`digest` frame) and compares what it can check of its own state: the
// dashboard's version and the digest of its page. On a mismatch it counts it
// (`digestMismatches`), emits `digest-mismatch` and starts over from a
// snapshot, telling the server why (`resync: "digest_mismatch"`).
//
// The hash is the server's (src/model/digest.rs): MurmurHash3 x86_32, seed
// 0, over 32-bit words, each integer (ids, versions, totals, below 2^53) as
// two words, low then high. Math.imul and `>>> 0` keep it exact.

/**
 * MurmurHash3 x86_32, seed 0, over 32-bit words.
 * @param {number[]} words
 * @returns {number} unsigned 32-bit
 */
export function hashWords(words) {
  let h = 0;
  for (const word of words) {
    let k = Math.imul(word, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= words.length * 4;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A non-negative integer below 2^53 as two words, low then high. */
function words(n) {
  return [n >>> 0, Math.floor(n / 4294967296) >>> 0];
}

/** One product at one version. */
export function rowHash(id, version) {
  return hashWords([...words(id), ...words(version)]);
}

/** The store's products digest over every product held: the sum of row hashes, mod 2^32. */
export function productsDigest(rows) {
  return rows.reduce((sum, p) => (sum + rowHash(p.id, p.version)) >>> 0, 0);
}

/** A page's digest: its total, then each row's id and version, in order. */
export function pageDigest(page) {
  return hashWords([...words(page.total), ...page.rows.flatMap((p) => [...words(p.id), ...words(p.version)])]);
}

/**
 * @typedef {object} DigestCheck
 * @property {() => void} schedule a batch was applied: check once the stream is quiet
 * @property {() => void} checkNow asks for the digest now (when live)
 * @property {(f: any) => void} onAnswer a `digest` frame
 * @property {() => void} stop
 */

/**
 * @param {import('./core.js').SyncCore} core
 * @returns {DigestCheck}
 */
export function createDigestCheck(core) {
  const { state, opts } = core;
  let timer;

  function schedule() {
    clearTimeout(timer);
    if (opts.digestCheckMs > 0) timer = setTimeout(checkNow, opts.digestCheckMs);
  }

  function checkNow() {
    clearTimeout(timer);
    const s = state.get();
    if (s.seq === null || !s.store || !core.socket.isLive()) return;
    core.socket.send({ type: 'digest', id: core.newId(), store: s.store, seq: s.seq });
  }

  function onAnswer(f) {
    const s = state.get();
    // Not a seq the server still knows, or the client moved on: the next
    // batch schedules the next check.
    if (f.digest === null || f.seq !== s.seq) return;
    const live = core.topics.live();
    const wrong = [];
    if (live.includes('dashboard') && s.dashboard && s.dashboard.version !== f.digest.dashboard) wrong.push('dashboard');
    if (live.includes('products') && s.page && f.page !== undefined && pageDigest(s.page) !== f.page) wrong.push('page');
    core.setState({ digestChecks: s.digestChecks + 1, digestMatchedSeq: wrong.length ? s.digestMatchedSeq : f.seq }, 'health');
    if (!wrong.length) return;
    core.setState({ digestMismatches: state.get().digestMismatches + 1 }, 'health');
    core.emit('digest-mismatch', { seq: f.seq, parts: wrong });
    core.socket.subscribe({ fresh: true, resync: 'digest_mismatch' });
  }

  return { schedule, checkNow, onAnswer, stop: () => clearTimeout(timer) };
}
