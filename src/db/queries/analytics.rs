//! Reads for the live analytics (`model/analytics.rs`): the sales since a
//! time through the `sales_store_at` index, and the products they sold.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::models::ProductRow;
use crate::db::schema::{products, sales};
use crate::db::Conn;
use crate::error::ApiError;
use crate::model::analytics::{ProductFact, SaleFact};
use crate::model::ProductId;

/// Product ids per `IN` list: well under SQLite's bound-parameter cap.
const IDS_PER_QUERY: usize = 500;

/// The store's sales at or after `since`, oldest first.
pub fn sales_since(conn: &mut Conn, store_id: i64, since: DateTime<Utc>) -> Result<Vec<SaleFact>, ApiError> {
    let rows: Vec<(chrono::NaiveDateTime, i64, String)> = sales::table
        .filter(sales::store_id.eq(store_id).and(sales::at.ge(since.naive_utc())))
        .order(sales::at.asc())
        .select((sales::at, sales::amount, sales::lines))
        .load(conn)?;
    Ok(rows
        .into_iter()
        // Only this crate writes `lines`, always from `Vec<SaleLine>`.
        .map(|(at, amount, lines)| SaleFact {
            at: at.and_utc(),
            amount,
            lines: serde_json::from_str(&lines).unwrap_or_default(),
        })
        .collect())
}

/// The store's products among `ids`, by id.
pub fn products(
    conn: &mut Conn,
    store_id: i64,
    ids: &[ProductId],
) -> Result<HashMap<ProductId, ProductFact>, ApiError> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let rows = products::table
            .filter(products::store_id.eq(store_id).and(products::id.eq_any(chunk)))
            .select(ProductRow::as_select())
            .load(conn)?;
        for row in rows {
            let p = row.into_product();
            found
                .insert(p.id, ProductFact { id: p.id, name: p.name, price: p.price, stock: p.stock, status: p.status });
        }
    }
    Ok(found)
}
