//! Consistency digests: a few numbers that say what a store's live state
//! is at a seq, so a client can check that the state it built from
//! snapshots, pages and batches is the server's, and resync when not.
//!
//! Every hash here is MurmurHash3 x86_32 (seed 0) over 32-bit words, each
//! `i64` (ids, versions, totals; never negative, below 2^53) as two words,
//! low then high. That is exact in JavaScript with `Math.imul` and `>>> 0`
//! (`static/js/sync/digest.js` is the same function), so no 64-bit
//! arithmetic is needed on either side.
//!
//! - `row_hash(id, version)`: one product as of its version.
//! - The store's `products` digest: the wrapping 32-bit sum of every
//!   product's row hash. A sum does not depend on order, so the store actor
//!   keeps it in O(1) per change (subtract the old row, add the new one),
//!   and a client holding every product computes it the same way.
//! - `page_digest`: the page's `total`, then each row's id and version in
//!   the page's order: what a client holding one page can check.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Product, ProductId, Seq};

/// What a store's live state is at `seq`: the parts a client can check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoreDigest {
    pub seq: Seq,
    /// Wrapping 32-bit sum of every product's `row_hash(id, version)`.
    #[schema(format = Int64, minimum = 0, maximum = 4294967295_u32)]
    pub products: u32,
    /// How many products the store holds.
    pub count: usize,
    /// The dashboard's `version`.
    pub dashboard: i64,
}

/// MurmurHash3 x86_32, seed 0, over 32-bit words (as if little-endian bytes).
pub fn hash_words(words: &[u32]) -> u32 {
    let mut h: u32 = 0;
    for &word in words {
        let k = word.wrapping_mul(0xcc9e_2d51).rotate_left(15).wrapping_mul(0x1b87_3593);
        h = (h ^ k).rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    h ^= (words.len() as u32).wrapping_mul(4);
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// An `i64` as two words, low then high.
fn words(n: i64) -> [u32; 2] {
    let n = n as u64;
    [n as u32, (n >> 32) as u32]
}

/// One product at one version.
pub fn row_hash(id: ProductId, version: i64) -> u32 {
    let [a, b] = words(id);
    let [c, d] = words(version);
    hash_words(&[a, b, c, d])
}

/// The store's products digest: the wrapping sum of their row hashes.
pub fn products_digest<'p>(products: impl IntoIterator<Item = &'p Product>) -> u32 {
    products.into_iter().fold(0u32, |sum, p| sum.wrapping_add(row_hash(p.id, p.version)))
}

/// A page's digest: its total, then each row's id and version, in order.
pub fn page_digest(total: usize, rows: &[Product]) -> u32 {
    page_digest_of(total, rows.iter().map(|p| (p.id, p.version)))
}

/// `page_digest` of rows given as (id, version).
pub fn page_digest_of(total: usize, rows: impl IntoIterator<Item = (ProductId, i64)>) -> u32 {
    let mut w = Vec::from(words(total as i64));
    for (id, version) in rows {
        w.extend(words(id));
        w.extend(words(version));
    }
    hash_words(&w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;

    #[test]
    fn murmur3_matches_its_reference_values() {
        // MurmurHash3_x86_32 of the bytes, seed 0: "" and the 4 bytes
        // 0x21 0x43 0x65 0x87 (the word 0x87654321).
        assert_eq!(hash_words(&[]), 0);
        assert_eq!(hash_words(&[0x8765_4321]), 0xf55b_516b);
    }

    #[test]
    fn values_pinned_for_the_javascript_client() {
        // static/js/sync/digest.js must give the same (tests/browser/digest.test.js).
        assert_eq!(row_hash(100_000, 4), 0x184d_5552);
        assert_eq!(row_hash((1 << 40) + 7, (1 << 33) + 1), 0x39b7_8267);
    }

    #[test]
    fn the_products_digest_ignores_order_and_sees_every_version() {
        let (a, mut b) = (testkit::product(1), testkit::product(2));
        let sum = products_digest([&a, &b]);
        assert_eq!(sum, products_digest([&b, &a]));
        b.version += 1;
        assert_ne!(sum, products_digest([&a, &b]));
        assert_eq!(sum.wrapping_sub(row_hash(a.id, a.version)), row_hash(2, b.version - 1));
    }

    #[test]
    fn the_page_digest_sees_order_total_and_versions() {
        let (a, b) = (testkit::product(1), testkit::product(2));
        let page = page_digest(2, &[a.clone(), b.clone()]);
        assert_ne!(page, page_digest(2, &[b.clone(), a.clone()]));
        assert_ne!(page, page_digest(3, &[a.clone(), b.clone()]));
        let mut newer = b.clone();
        newer.version += 1;
        assert_ne!(page, page_digest(2, &[a, newer]));
    }
}
