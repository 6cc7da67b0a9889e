//! Public ids of products and sales, numbered per store.
//!
//! A new id is the store's id times 2^32 plus the store's next number of
//! that kind, taken from `id_counters` inside the write's transaction. A
//! global sequence would let the users of one store read from the gap
//! between two of their own ids how many products or sales every other
//! store created meanwhile; a per-store number tells them only what their
//! own store already shows them. The ids stay unique across stores (the
//! store's part), grow within a store (so sorting by id is creation order)
//! and are never reused, even after a delete. Ids issued before the
//! counters existed are all below 2^32 and keep working.

use diesel::prelude::*;

use crate::db::schema::id_counters;
use crate::db::Conn;
use crate::each_backend;
use crate::error::ApiError;

/// What an id numbers.
#[derive(Debug, Clone, Copy)]
pub enum IdKind {
    Product,
    Sale,
}

impl IdKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Product => "product",
            Self::Sale => "sale",
        }
    }
}

/// Numbers per store and kind: 2^32 (a store's part starts above).
const PER_STORE: i64 = 1 << 32;

/// The next id of `kind` in the store, never handed out before.
pub fn next(conn: &mut Conn, store_id: i64, kind: IdKind) -> Result<i64, ApiError> {
    let upsert = diesel::insert_into(id_counters::table)
        .values((id_counters::store_id.eq(store_id), id_counters::kind.eq(kind.as_str()), id_counters::last.eq(1)))
        .on_conflict((id_counters::store_id, id_counters::kind))
        .do_update()
        .set(id_counters::last.eq(id_counters::last + 1));
    let number: i64 = each_backend!(conn, |c| upsert.returning(id_counters::last).get_result(c))?;
    compose(store_id, number)
        .ok_or_else(|| ApiError::Conflict(format!("the store has used all {PER_STORE} {} ids", kind.as_str())))
}

/// The store's part plus its number, while both fit.
fn compose(store_id: i64, number: i64) -> Option<i64> {
    (number < PER_STORE).then(|| store_id.checked_mul(PER_STORE)?.checked_add(number)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_one_store_are_consecutive_and_stores_do_not_overlap() {
        assert_eq!(compose(1, 1), Some(PER_STORE + 1));
        assert_eq!(compose(1, 2), Some(PER_STORE + 2));
        assert!(compose(1, PER_STORE - 1).unwrap() < compose(2, 1).unwrap());
        assert_eq!(compose(1, PER_STORE), None);
        // JavaScript numbers hold these exactly up to store 2^21.
        assert!(compose(1 << 20, PER_STORE - 1).unwrap() < 1 << 53);
        assert_eq!(compose(i64::MAX, 1), None);
    }
}
