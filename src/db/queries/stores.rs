//! Stores and the live state a store actor loads when it starts.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::models::{DailySalesRow, ProductRow, StoreRow};
use crate::db::schema::{daily_sales, products, stores};
use crate::db::{self, Conn};
use crate::error::ApiError;
use crate::model::saved_view::SavedView;
use crate::model::{DailyPoint, DashboardSettings, Event, Product, Seq, StoreInfo};

/// Every store, by id.
pub fn all(conn: &mut Conn) -> QueryResult<Vec<StoreRow>> {
    stores::table.order(stores::id).select(StoreRow::as_select()).load(conn)
}

/// What a store actor holds, read in one transaction so it is consistent
/// with `seq`.
pub struct LoadedStore {
    pub seq: Seq,
    /// The store's settings as of `seq`.
    pub info: StoreInfo,
    pub products: Vec<Product>,
    pub settings: DashboardSettings,
    pub days: BTreeMap<NaiveDate, DailyPoint>,
    pub saved_views: Vec<SavedView>,
}

/// Reads a store's whole live state.
pub fn load(conn: &mut Conn, store_id: i64) -> Result<LoadedStore, ApiError> {
    db::snapshot_transaction(conn, |conn| read(conn, store_id))
}

/// Reads a store's whole live state and at most `limit` events after
/// `since`, as of one moment: the events end at the state's seq.
pub fn load_after(
    conn: &mut Conn,
    store_id: i64,
    since: Seq,
    limit: i64,
) -> Result<(LoadedStore, Vec<Event>), ApiError> {
    db::snapshot_transaction(conn, |conn| {
        let loaded = read(conn, store_id)?;
        let events = super::events::since(conn, store_id, since, limit)?;
        Ok((loaded, events))
    })
}

fn read(conn: &mut Conn, store_id: i64) -> Result<LoadedStore, ApiError> {
    let row = stores::table.find(store_id).select(StoreRow::as_select()).first(conn)?;
    let products = products::table
        .filter(products::store_id.eq(store_id))
        .select(ProductRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ProductRow::into_product)
        .collect();
    let settings = super::sales::settings(conn, store_id)?;
    let days = daily_sales::table
        .filter(daily_sales::store_id.eq(store_id))
        .select(DailySalesRow::as_select())
        .load(conn)?
        .into_iter()
        .filter_map(|r| day_point(&r))
        .map(|p| (p.day, p))
        .collect();
    let saved_views = super::saved_views::all(conn, store_id)?;
    Ok(LoadedStore { seq: row.seq, info: row.info(), products, settings, days, saved_views })
}

/// A daily row as a point; rows with an unparsable day (never written by
/// us) are skipped.
pub fn day_point(r: &DailySalesRow) -> Option<DailyPoint> {
    let day = NaiveDate::parse_from_str(&r.day, "%Y-%m-%d").ok()?;
    Some(DailyPoint { day, orders: r.orders, units: r.units, revenue: r.revenue })
}
