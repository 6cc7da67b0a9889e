//! A store's own row, as global admins change it: creating a store,
//! changing its settings inside a group commit (a new time zone re-buckets
//! every sale into the local days of that zone, in the same transaction),
//! archiving and restoring it, and deleting an archived store with all its
//! data. The rules of the fields are `model::store`'s; who may call is the
//! HTTP layer's. Each change is recorded in the audit log in its own
//! transaction. Guarded by `tests/manage_stores.rs`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};
use serde_json::json;

use super::audit::{self, Action};
use crate::db::models::{DailySalesRow, StoreRow};
use crate::db::schema::{api_tokens, daily_sales, products, sales, stores};
use crate::db::{self, Conn};
use crate::error::ApiError;
use crate::model::change::Effect;
use crate::model::store::{parse_time_zone, NewStore, StorePatch};
use crate::model::{calendar, DailyPoint, EventKind, SaleLine, StoreInfo};

/// A store's row by id.
pub fn row(conn: &mut Conn, store_id: i64) -> Result<StoreRow, ApiError> {
    Ok(stores::table.find(store_id).select(StoreRow::as_select()).first(conn)?)
}

/// Creates a store (seq 0, not archived) and, when `creator` is a user,
/// grants them the admin role there; a taken slug is `Conflict`. `by` is
/// recorded in the audit log.
pub fn create(
    conn: &mut Conn,
    by: &str,
    new: &NewStore,
    creator: Option<i64>,
    now: NaiveDateTime,
) -> Result<StoreRow, ApiError> {
    db::write_transaction(conn, |conn| {
        let inserted = diesel::insert_into(stores::table)
            .values((
                stores::slug.eq(&new.slug),
                stores::name.eq(&new.name),
                stores::currency.eq(&new.currency),
                stores::time_zone.eq(&new.time_zone),
                stores::public.eq(new.public),
                stores::seq.eq(0),
                stores::created_at.eq(now),
                stores::archived.eq(false),
            ))
            .returning(stores::id)
            .get_result(conn);
        let row = match inserted {
            Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                return Err(ApiError::Conflict(format!("a store with slug {} exists", new.slug)))
            }
            other => row(conn, other?)?,
        };
        if let Some(user) = creator {
            super::auth::grant(conn, user, row.id, crate::auth::Role::Admin.as_str())?;
        }
        audit::record(conn, by, Action::StoreCreated, &target(&row.slug), json!({ "store": row.info() }))?;
        Ok(row)
    })
}

/// A change to a store's own row inside a group commit: the store as it
/// now is, the live-state effects, and the event to record (none when
/// nothing changed).
pub struct StoreChange {
    pub info: StoreInfo,
    pub effects: Vec<Effect>,
    pub event: Option<(EventKind, serde_json::Value)>,
}

/// Applies a settings patch inside a group commit. A currency change is
/// refused once the store has products or sales. A time-zone change
/// recomputes every daily bucket from the sales, and its event carries the
/// last 30 local days and the dashboard as they now are.
pub fn update(
    conn: &mut Conn,
    by: &str,
    store_id: i64,
    patch: &StorePatch,
    now: DateTime<Utc>,
) -> Result<StoreChange, ApiError> {
    let mut row = row(conn, store_id)?;
    let mut changed = Vec::new();
    if let Some(name) = patch.name.as_ref().filter(|n| **n != row.name) {
        row.name = name.clone();
        changed.push("name");
    }
    if let Some(public) = patch.public.filter(|p| *p != row.public) {
        row.public = public;
        changed.push("public");
    }
    if let Some(currency) = patch.currency.as_ref().filter(|c| **c != row.currency) {
        let products: i64 = products::table.filter(products::store_id.eq(store_id)).count().get_result(conn)?;
        let sold: i64 = sales::table.filter(sales::store_id.eq(store_id)).count().get_result(conn)?;
        if products + sold > 0 {
            return Err(ApiError::CurrencyLocked);
        }
        row.currency = currency.clone();
        changed.push("currency");
    }
    let mut rebucketed = None;
    if let Some(zone) = patch.time_zone.as_ref().filter(|z| **z != row.time_zone) {
        let tz = parse_time_zone(zone)?;
        rebucketed = Some((tz, rebucket(conn, store_id, tz)?));
        row.time_zone = zone.clone();
        changed.push("time_zone");
    }
    let info = row.info();
    if changed.is_empty() {
        return Ok(StoreChange { info, effects: Vec::new(), event: None });
    }
    diesel::update(stores::table.find(store_id))
        .set((
            stores::name.eq(&row.name),
            stores::public.eq(row.public),
            stores::currency.eq(&row.currency),
            stores::time_zone.eq(&row.time_zone),
        ))
        .execute(conn)?;
    let mut data = json!({ "store": info, "changed": changed });
    audit::record(conn, by, Action::StoreUpdated, &target(&row.slug), data.clone())?;
    let mut effects = vec![Effect::Store(info.clone())];
    if let Some((tz, days)) = rebucketed {
        let today = calendar::local_day(tz, now).ok_or_else(|| ApiError::Internal("the clock has no day".into()))?;
        let point = |day: NaiveDate| days.get(&day).copied().unwrap_or(DailyPoint::empty(day));
        let recent: Vec<DailyPoint> = (0..30).rev().map(|back| point(today - Duration::days(back))).collect();
        data["sales"] = json!(recent);
        data["dashboard"] = json!(super::sales::settings(conn, store_id)?.dashboard(point(today)));
        effects.push(Effect::Days(days.into_values().collect()));
    }
    Ok(StoreChange { info, effects, event: Some((EventKind::StoreUpdated, data)) })
}

/// Archives (`true`) or restores a store inside a group commit; archiving
/// an archived store, or restoring one that is not, is refused.
pub fn set_archived(conn: &mut Conn, by: &str, store_id: i64, archived: bool) -> Result<StoreChange, ApiError> {
    let mut row = row(conn, store_id)?;
    match (row.archived, archived) {
        (true, true) => return Err(ApiError::StoreArchived),
        (false, false) => return Err(ApiError::StoreNotArchived),
        _ => {}
    }
    diesel::update(stores::table.find(store_id)).set(stores::archived.eq(archived)).execute(conn)?;
    row.archived = archived;
    let info = row.info();
    let (kind, action) = match archived {
        true => (EventKind::StoreArchived, Action::StoreArchived),
        false => (EventKind::StoreRestored, Action::StoreRestored),
    };
    audit::record(conn, by, action, &target(&row.slug), json!({}))?;
    let event = Some((kind, json!({ "store": info })));
    Ok(StoreChange { effects: vec![Effect::Store(info.clone())], info, event })
}

/// Deletes an archived store and everything of it (products, sales, days,
/// events, grants: the foreign keys cascade), and takes it out of the API
/// tokens scoped to it, so that a store created later under a reused id is
/// never in an old token's scope. A store that is not archived is refused.
pub fn delete_archived(conn: &mut Conn, by: &str, store_id: i64) -> Result<(), ApiError> {
    db::write_transaction(conn, |conn| {
        let row = row(conn, store_id)?;
        if !row.archived {
            return Err(ApiError::StoreNotArchived);
        }
        let scoped: Vec<(i64, String)> =
            api_tokens::table.select((api_tokens::id, api_tokens::store_ids)).load(conn)?;
        for (token, ids) in scoped {
            let kept: Vec<&str> = ids.split(',').filter(|id| id.trim() != store_id.to_string()).collect();
            if kept.len() != ids.split(',').count() {
                diesel::update(api_tokens::table.find(token))
                    .set((api_tokens::store_ids.eq(kept.join(",")), api_tokens::revoked.eq(kept.is_empty())))
                    .execute(conn)?;
            }
        }
        diesel::delete(stores::table.find(store_id)).execute(conn)?;
        audit::record(conn, by, Action::StoreDeleted, &target(&row.slug), json!({}))?;
        Ok(())
    })
}

/// How the audit log names a store.
fn target(slug: &str) -> String {
    format!("store:{slug}")
}

/// Recomputes every daily bucket of a store from its sales, in `tz`, and
/// stores them in place of the old ones.
fn rebucket(conn: &mut Conn, store_id: i64, tz: Tz) -> Result<BTreeMap<NaiveDate, DailyPoint>, ApiError> {
    let sold: Vec<(NaiveDateTime, i64, String)> = sales::table
        .filter(sales::store_id.eq(store_id))
        .select((sales::at, sales::amount, sales::lines))
        .load(conn)?;
    let mut days: BTreeMap<NaiveDate, DailyPoint> = BTreeMap::new();
    for (at, amount, lines) in sold {
        let at: DateTime<Utc> = at.and_utc();
        let day = calendar::local_day(tz, at).ok_or_else(|| ApiError::Internal(format!("sale at {at} has no day")))?;
        let lines: Vec<SaleLine> =
            serde_json::from_str(&lines).map_err(|e| ApiError::Internal(format!("stored sale lines: {e}")))?;
        let point = days.entry(day).or_insert(DailyPoint::empty(day));
        point.orders += 1;
        point.units += lines.iter().map(|l| l.quantity).sum::<i64>();
        point.revenue += amount;
    }
    diesel::delete(daily_sales::table.filter(daily_sales::store_id.eq(store_id))).execute(conn)?;
    let rows: Vec<DailySalesRow> = days
        .values()
        .map(|p| DailySalesRow {
            store_id,
            day: p.day.to_string(),
            orders: p.orders,
            units: p.units,
            revenue: p.revenue,
        })
        .collect();
    // 5 parameters a row: 1,000 rows stay under both backends' limits.
    for chunk in rows.chunks(1000) {
        let insert = diesel::insert_into(daily_sales::table).values(chunk);
        crate::each_backend!(conn, |c| insert.execute(c))?;
    }
    Ok(days)
}
