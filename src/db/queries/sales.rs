//! Sales and the dashboard inside a group commit: recording an order
//! updates the products' figures and the store's local day in the same
//! transaction.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::ids::{self, IdKind};
use super::products;
use crate::db::models::{DailySalesRow, DashboardRow};
use crate::db::schema::{daily_sales, dashboard, sales};
use crate::db::Conn;
use crate::each_backend;
use crate::error::ApiError;
use crate::model::{calendar, DailyPoint, DashboardSettings, NewSale, ProductFigures, SaleReceipt};

/// The day's totals, or an empty day.
pub fn day(conn: &mut Conn, store_id: i64, day: NaiveDate) -> Result<DailyPoint, ApiError> {
    let row = daily_sales::table
        .find((store_id, day.to_string()))
        .select(DailySalesRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.as_ref().and_then(super::stores::day_point).unwrap_or(DailyPoint::empty(day)))
}

/// Adds an order to its local day and returns the day's new totals.
pub fn add_to_day(
    conn: &mut Conn,
    store_id: i64,
    day: NaiveDate,
    units: i64,
    revenue: i64,
) -> Result<DailyPoint, ApiError> {
    let row = DailySalesRow { store_id, day: day.to_string(), orders: 1, units, revenue };
    let upsert = diesel::insert_into(daily_sales::table)
        .values(&row)
        .on_conflict((daily_sales::store_id, daily_sales::day))
        .do_update()
        .set((
            daily_sales::orders.eq(daily_sales::orders + excluded(daily_sales::orders)),
            daily_sales::units.eq(daily_sales::units + excluded(daily_sales::units)),
            daily_sales::revenue.eq(daily_sales::revenue + excluded(daily_sales::revenue)),
        ));
    each_backend!(conn, |c| upsert.execute(c))?;
    self::day(conn, store_id, day)
}

/// Records an order: checks every line's product belongs to this store,
/// updates the products' units, revenue and stock, the sale row and its day.
pub fn record(
    conn: &mut Conn,
    store_id: i64,
    tz: Tz,
    sale: &NewSale,
    by: &str,
    now: DateTime<Utc>,
) -> Result<SaleReceipt, ApiError> {
    if let Some(order_ref) = &sale.order_ref {
        let taken = sales::table
            .filter(sales::store_id.eq(store_id).and(sales::order_ref.eq(order_ref)))
            .count()
            .get_result::<i64>(conn)?;
        if taken > 0 {
            return Err(ApiError::Conflict(format!("order {order_ref} is already recorded")));
        }
    }
    let at = sale.at.unwrap_or(now);
    // Checked again here, not only by the handler: a time chrono cannot
    // place in the store's zone must be this write's refusal, never a
    // panic that aborts the whole group commit.
    calendar::check_sale_time(at, now)?;
    let local_day = calendar::local_day(tz, at).ok_or_else(|| ApiError::invalid("at", "at is out of range".into()))?;
    let mut amount: i64 = 0;
    let mut units: i64 = 0;
    let mut figures = Vec::with_capacity(sale.lines.len());
    for line in &sale.lines {
        let mut product = products::get(conn, store_id, line.product_id).map_err(|_| {
            ApiError::invalid("product_id", format!("product {} is not in this store", line.product_id))
        })?;
        let unit_price = line.unit_price.unwrap_or(product.price);
        let line_amount = unit_price
            .checked_mul(line.quantity)
            .filter(|a| *a <= crate::model::MAX_AMOUNT)
            .ok_or_else(|| ApiError::invalid("quantity", "line amount is too large".into()))?;
        amount += line_amount;
        units += line.quantity;
        // Checked: release builds would wrap silently, debug builds panic.
        let overflow = || ApiError::invalid("quantity", "the product's sales figures would overflow".into());
        product.units_sold = product.units_sold.checked_add(line.quantity).ok_or_else(overflow)?;
        product.revenue = product.revenue.checked_add(line_amount).ok_or_else(overflow)?;
        product.stock = (product.stock - line.quantity).max(0);
        product.version += 1;
        product.updated_at = now;
        products::save(conn, store_id, &product)?;
        figures.push(ProductFigures {
            id: product.id,
            units_sold: product.units_sold,
            revenue: product.revenue,
            stock: product.stock,
            version: product.version,
        });
    }
    let lines = serde_json::to_string(&sale.lines).map_err(|e| ApiError::Internal(e.to_string()))?;
    let sale_id = ids::next(conn, store_id, IdKind::Sale)?;
    diesel::insert_into(sales::table)
        .values((
            sales::id.eq(sale_id),
            sales::store_id.eq(store_id),
            sales::order_ref.eq(&sale.order_ref),
            sales::amount.eq(amount),
            sales::lines.eq(lines),
            sales::at.eq(at.naive_utc()),
            sales::recorded_by.eq(by),
        ))
        .execute(conn)?;
    let day = add_to_day(conn, store_id, local_day, units, amount)?;
    Ok(SaleReceipt { sale_id, order_ref: sale.order_ref.clone(), amount, at, day, products: figures })
}

/// The hand-set dashboard fields.
pub fn settings(conn: &mut Conn, store_id: i64) -> Result<DashboardSettings, ApiError> {
    Ok(dashboard::table
        .find(store_id)
        .select(DashboardRow::as_select())
        .first(conn)
        .optional()?
        .map(DashboardRow::into_settings)
        .unwrap_or_else(DashboardSettings::empty))
}

/// Stores the hand-set dashboard fields.
pub fn save_settings(
    conn: &mut Conn,
    store_id: i64,
    s: &DashboardSettings,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let row = DashboardRow {
        store_id,
        visitors_today: s.visitors_today,
        refunds_today: s.refunds_today,
        revenue_target: s.revenue_target,
        notice: s.notice.clone(),
        version: s.version,
        updated_at: now,
    };
    let upsert =
        diesel::insert_into(dashboard::table).values(&row).on_conflict(dashboard::store_id).do_update().set(&row);
    each_backend!(conn, |c| upsert.execute(c))?;
    Ok(())
}
