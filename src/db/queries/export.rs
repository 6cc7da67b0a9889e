//! Reads for the BI exports (`http/bi_export.rs`): one bounded page at a
//! time in key order (keyset pagination), so an export of any length holds
//! one page in memory. Each read takes a start key (inclusive) and a stop
//! key (exclusive); `nth_key` finds where a response of `n` rows stops.
//! Sales are ordered by `(at, id)` (the `sales_store_at` index), events by
//! seq (their primary key), products by id.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::{EventRow, ProductRow};
use crate::db::schema::{events, products, sales};
use crate::db::Conn;
use crate::error::ApiError;
use crate::model::{Event, Product};

/// A time range `[from, to)` in UTC.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

/// A sale as the export reads it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sales)]
pub struct SaleRow {
    pub id: i64,
    pub order_ref: Option<String>,
    pub amount: i64,
    pub lines: String,
    pub at: NaiveDateTime,
    pub recorded_by: String,
}

/// A sale's position: its time, then its id.
pub type SaleKey = (NaiveDateTime, i64);

/// Sales in `range` from `start` (inclusive) to `stop` (exclusive), at most `n`.
pub fn sales(
    conn: &mut Conn,
    store_id: i64,
    range: Range,
    start: SaleKey,
    stop: SaleKey,
    n: i64,
) -> Result<Vec<SaleRow>, ApiError> {
    Ok(sales::table
        .filter(sales::store_id.eq(store_id))
        .filter(sales::at.ge(range.from).and(sales::at.lt(range.to)))
        .filter(sales::at.gt(start.0).or(sales::at.eq(start.0).and(sales::id.ge(start.1))))
        .filter(sales::at.lt(stop.0).or(sales::at.eq(stop.0).and(sales::id.lt(stop.1))))
        .order((sales::at.asc(), sales::id.asc()))
        .limit(n)
        .select(SaleRow::as_select())
        .load(conn)?)
}

/// The key of the sale `n` places after `start` in `range` (where an
/// answer of `n` rows stops), if there is one.
pub fn nth_sale(
    conn: &mut Conn,
    store_id: i64,
    range: Range,
    start: SaleKey,
    n: i64,
) -> Result<Option<SaleKey>, ApiError> {
    Ok(sales::table
        .filter(sales::store_id.eq(store_id))
        .filter(sales::at.ge(range.from).and(sales::at.lt(range.to)))
        .filter(sales::at.gt(start.0).or(sales::at.eq(start.0).and(sales::id.ge(start.1))))
        .order((sales::at.asc(), sales::id.asc()))
        .offset(n)
        .select((sales::at, sales::id))
        .first(conn)
        .optional()?)
}

/// Events in `range` with a seq from `start` (inclusive) to `stop`
/// (exclusive), at most `n`.
pub fn events(
    conn: &mut Conn,
    store_id: i64,
    range: Range,
    start: i64,
    stop: i64,
    n: i64,
) -> Result<Vec<Event>, ApiError> {
    events::table
        .filter(events::store_id.eq(store_id).and(events::seq.ge(start)).and(events::seq.lt(stop)))
        .filter(events::at.ge(range.from).and(events::at.lt(range.to)))
        .order(events::seq.asc())
        .limit(n)
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_event)
        .collect()
}

/// The seq of the event `n` places after `start` in `range`, if any.
pub fn nth_event(conn: &mut Conn, store_id: i64, range: Range, start: i64, n: i64) -> Result<Option<i64>, ApiError> {
    Ok(events::table
        .filter(events::store_id.eq(store_id).and(events::seq.ge(start)))
        .filter(events::at.ge(range.from).and(events::at.lt(range.to)))
        .order(events::seq.asc())
        .offset(n)
        .select(events::seq)
        .first(conn)
        .optional()?)
}

/// Products changed in `range` with an id from `start` (inclusive) to
/// `stop` (exclusive), at most `n`.
pub fn products(
    conn: &mut Conn,
    store_id: i64,
    range: Range,
    start: i64,
    stop: i64,
    n: i64,
) -> Result<Vec<Product>, ApiError> {
    Ok(products::table
        .filter(products::store_id.eq(store_id).and(products::id.ge(start)).and(products::id.lt(stop)))
        .filter(products::updated_at.ge(range.from).and(products::updated_at.lt(range.to)))
        .order(products::id.asc())
        .limit(n)
        .select(ProductRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ProductRow::into_product)
        .collect())
}

/// The id of the product `n` places after `start` in `range`, if any.
pub fn nth_product(conn: &mut Conn, store_id: i64, range: Range, start: i64, n: i64) -> Result<Option<i64>, ApiError> {
    Ok(products::table
        .filter(products::store_id.eq(store_id).and(products::id.ge(start)))
        .filter(products::updated_at.ge(range.from).and(products::updated_at.lt(range.to)))
        .order(products::id.asc())
        .offset(n)
        .select(products::id)
        .first(conn)
        .optional()?)
}
