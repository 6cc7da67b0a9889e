//! Custom KPI definitions (`kpis`): written by group commit
//! (`queries/commit.rs`), read by `GET /stores/{store}/kpis` and by the KPI
//! watcher (`store/kpi_watch.rs`); one row per store and name.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::kpis;
use crate::db::Conn;
use crate::error::ApiError;
use crate::model::kpi::{KpiRule, MAX_KPIS};

/// A `kpis` row: the definition as JSON.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = kpis)]
pub struct KpiRow {
    pub store_id: i64,
    pub name: String,
    pub definition: String,
    pub defined_by: String,
    pub defined_at: NaiveDateTime,
}

impl KpiRow {
    /// The rule; `None` for a definition that no longer parses (never
    /// written by us).
    fn into_rule(self) -> Option<KpiRule> {
        let definition = serde_json::from_str(&self.definition).ok()?;
        Some(KpiRule {
            name: self.name,
            definition,
            defined_by: self.defined_by,
            defined_at: self.defined_at.and_utc(),
        })
    }
}

/// A store's KPIs, by name.
pub fn all(conn: &mut Conn, store_id: i64) -> Result<Vec<KpiRule>, ApiError> {
    let rows =
        kpis::table.filter(kpis::store_id.eq(store_id)).order(kpis::name).select(KpiRow::as_select()).load(conn)?;
    Ok(rows.into_iter().filter_map(KpiRow::into_rule).collect())
}

/// Every store's KPIs, by store id then name (the watcher's read).
pub fn every(conn: &mut Conn) -> Result<Vec<(i64, KpiRule)>, ApiError> {
    let rows = kpis::table.order((kpis::store_id, kpis::name)).select(KpiRow::as_select()).load(conn)?;
    Ok(rows.into_iter().filter_map(|r| Some((r.store_id, r.into_rule()?))).collect())
}

/// Saves a KPI under its name, replacing one of that name; refuses a new
/// name past `MAX_KPIS`.
pub fn save(conn: &mut Conn, store_id: i64, rule: &KpiRule) -> Result<(), ApiError> {
    let replaced = delete(conn, store_id, &rule.name)?;
    let count: i64 = kpis::table.filter(kpis::store_id.eq(store_id)).count().get_result(conn)?;
    if !replaced && count >= MAX_KPIS as i64 {
        return Err(ApiError::Limit(format!("a store keeps at most {MAX_KPIS} KPIs")));
    }
    let definition =
        serde_json::to_string(&rule.definition).map_err(|e| ApiError::Internal(format!("kpi json: {e}")))?;
    let row = KpiRow {
        store_id,
        name: rule.name.clone(),
        definition,
        defined_by: rule.defined_by.clone(),
        defined_at: rule.defined_at.naive_utc(),
    };
    diesel::insert_into(kpis::table).values(&row).execute(conn)?;
    Ok(())
}

/// Deletes a KPI; whether there was one.
pub fn delete(conn: &mut Conn, store_id: i64, name: &str) -> Result<bool, ApiError> {
    Ok(diesel::delete(kpis::table.find((store_id, name))).execute(conn)? > 0)
}
