//! The sync performance time series (`sync_stats`) and the daily health
//! reports (`health_reports`) of `ops::analytics` and `ops::report`.
//! Neither goes through a store actor: they describe the nodes, not a
//! store's data, and are written by the nodes' background loops.

use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::schema::{health_reports, sync_stats};
use crate::db::Conn;
use crate::each_backend;
use crate::error::ApiError;

/// The step of rolled-up rows.
pub const HOUR_SECS: i32 = 3600;

/// Rows per insert: 6 parameters each, under both backends' limits.
const CHUNK: usize = 1000;

/// One value of one metric over one interval.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sync_stats)]
pub struct StatRow {
    pub node: String,
    /// `''` for the node's totals, else the store's slug.
    pub store: String,
    pub metric: String,
    /// The interval's length: the sampling interval, or an hour.
    pub step_secs: i32,
    /// The interval's start (UTC).
    pub at: NaiveDateTime,
    pub value: f64,
}

/// Adds rows; a row whose interval is already there (a restart within the
/// same interval) is skipped rather than failing the batch.
pub fn insert(conn: &mut Conn, rows: &[StatRow]) -> Result<(), ApiError> {
    for chunk in rows.chunks(CHUNK) {
        // SQLite takes a batch with `INSERT OR IGNORE`, not `ON CONFLICT`.
        match &mut *conn {
            Conn::Sqlite(c) => diesel::insert_or_ignore_into(sync_stats::table).values(chunk).execute(c)?,
            Conn::Pg(c) => diesel::insert_into(sync_stats::table).values(chunk).on_conflict_do_nothing().execute(c)?,
        };
    }
    Ok(())
}

/// The rows of `metric` for `store` in `[from, to)`, of one node or all,
/// oldest first.
pub fn range(
    conn: &mut Conn,
    metric: &str,
    store: &str,
    node: Option<&str>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<StatRow>, ApiError> {
    let mut query = sync_stats::table
        .filter(sync_stats::metric.eq(metric))
        .filter(sync_stats::store.eq(store))
        .filter(sync_stats::at.ge(from))
        .filter(sync_stats::at.lt(to))
        .into_boxed();
    if let Some(node) = node {
        query = query.filter(sync_stats::node.eq(node));
    }
    Ok(query.order(sync_stats::at).select(StatRow::as_select()).load(conn)?)
}

/// The nodes' total rows (every metric, every node) in `[from, to)`, oldest first.
pub fn node_rows(conn: &mut Conn, from: NaiveDateTime, to: NaiveDateTime) -> Result<Vec<StatRow>, ApiError> {
    Ok(sync_stats::table
        .filter(sync_stats::store.eq(""))
        .filter(sync_stats::at.ge(from))
        .filter(sync_stats::at.lt(to))
        .order(sync_stats::at)
        .select(StatRow::as_select())
        .load(conn)?)
}

/// Per store and metric (of `metrics`) in `[from, to)`: the sum and the
/// highest value of the rows, summed in the database (a day of a hundred
/// stores is too many rows to load).
pub fn store_sums(
    conn: &mut Conn,
    metrics: &[&str],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(String, String, f64, f64)>, ApiError> {
    use diesel::dsl::{max, sum};
    let rows: Vec<(String, String, Option<f64>, Option<f64>)> = sync_stats::table
        .filter(sync_stats::store.ne(""))
        .filter(sync_stats::metric.eq_any(metrics))
        .filter(sync_stats::at.ge(from))
        .filter(sync_stats::at.lt(to))
        .group_by((sync_stats::store, sync_stats::metric))
        .select((sync_stats::store, sync_stats::metric, sum(sync_stats::value), max(sync_stats::value)))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(store, metric, total, top)| (store, metric, total.unwrap_or(0.0), top.unwrap_or(0.0)))
        .collect())
}

/// The nodes that recorded anything in `[from, to)`.
pub fn nodes(conn: &mut Conn, from: NaiveDateTime, to: NaiveDateTime) -> Result<Vec<String>, ApiError> {
    Ok(sync_stats::table
        .filter(sync_stats::at.ge(from))
        .filter(sync_stats::at.lt(to))
        .select(sync_stats::node)
        .distinct()
        .order(sync_stats::node)
        .load(conn)?)
}

/// The hours a rollup replaces: from the first hour with finer rows before
/// `cutoff`, at most `max_hours` of them (a node that was off long catches
/// up a bounded batch at a time); `None` when there is nothing to roll up.
pub fn roll_up_hours(
    conn: &mut Conn,
    cutoff: NaiveDateTime,
    max_hours: i64,
) -> Result<Option<(NaiveDateTime, NaiveDateTime)>, ApiError> {
    let fine = sync_stats::table.filter(sync_stats::step_secs.lt(HOUR_SECS)).filter(sync_stats::at.lt(cutoff));
    let Some(first) = fine.select(diesel::dsl::min(sync_stats::at)).first::<Option<NaiveDateTime>>(conn)? else {
        return Ok(None);
    };
    let first_hour = first.date().and_hms_opt(first.hour(), 0, 0).unwrap_or(first);
    Ok(Some((first_hour, cutoff.min(first_hour + chrono::Duration::hours(max_hours)))))
}

/// The rows of `[from, to)` a rollup replaces: the finer ones, and the
/// hourly ones already made (a late row joins its hour).
pub fn rows_between(conn: &mut Conn, from: NaiveDateTime, to: NaiveDateTime) -> Result<Vec<StatRow>, ApiError> {
    Ok(sync_stats::table
        .filter(sync_stats::at.ge(from))
        .filter(sync_stats::at.lt(to))
        .select(StatRow::as_select())
        .load(conn)?)
}

/// Deletes the rows of `[from, to)`.
pub fn delete_between(conn: &mut Conn, from: NaiveDateTime, to: NaiveDateTime) -> Result<(), ApiError> {
    diesel::delete(sync_stats::table.filter(sync_stats::at.ge(from)).filter(sync_stats::at.lt(to))).execute(conn)?;
    Ok(())
}

/// Deletes rows older than `cutoff`; answers how many.
pub fn delete_before(conn: &mut Conn, cutoff: NaiveDateTime) -> Result<usize, ApiError> {
    Ok(diesel::delete(sync_stats::table.filter(sync_stats::at.lt(cutoff))).execute(conn)?)
}

#[derive(QueryableByName)]
struct Bytes {
    #[diesel(sql_type = BigInt)]
    bytes: i64,
}

/// The database's size on disk (SQLite: the main file's pages; PostgreSQL:
/// `pg_database_size`).
pub fn database_bytes(conn: &mut Conn) -> Result<u64, ApiError> {
    let sql = match conn {
        Conn::Sqlite(_) => "SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()",
        Conn::Pg(_) => "SELECT pg_database_size(current_database()) AS bytes",
    };
    let row: Bytes = each_backend!(conn, |c| diesel::sql_query(sql).get_result(c))?;
    Ok(u64::try_from(row.bytes).unwrap_or(0))
}

/// In a write transaction: whether this node may run the cluster-wide job
/// `key` now (PostgreSQL: a transaction advisory lock nobody else holds;
/// SQLite has one node, and `BEGIN IMMEDIATE` serializes anyway).
pub fn try_job_lock(conn: &mut Conn, key: i64) -> Result<bool, ApiError> {
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let Conn::Pg(pg) = conn else { return Ok(true) };
    let row: Locked = diesel::sql_query(format!("SELECT pg_try_advisory_xact_lock({key}) AS locked")).get_result(pg)?;
    Ok(row.locked)
}

/// A kept health report.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = health_reports)]
pub struct ReportRow {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub generated_at: NaiveDateTime,
    /// The node that wrote it.
    pub node: String,
    /// The report, JSON.
    pub report: String,
}

/// Stores a report unless its day has one already (another node's);
/// answers whether this one was stored.
pub fn insert_report(conn: &mut Conn, row: &ReportRow) -> Result<bool, ApiError> {
    let insert = diesel::insert_into(health_reports::table).values(row).on_conflict_do_nothing();
    Ok(each_backend!(conn, |c| insert.execute(c))? > 0)
}

/// The report of a day.
pub fn report(conn: &mut Conn, day: &str) -> Result<Option<ReportRow>, ApiError> {
    Ok(health_reports::table.find(day).select(ReportRow::as_select()).first(conn).optional()?)
}

/// The kept reports' days and when they were made, newest first.
pub fn report_days(conn: &mut Conn) -> Result<Vec<(String, NaiveDateTime)>, ApiError> {
    Ok(health_reports::table
        .order(health_reports::day.desc())
        .select((health_reports::day, health_reports::generated_at))
        .load(conn)?)
}

/// Deletes reports of days before `day`; answers how many.
pub fn delete_reports_before(conn: &mut Conn, day: &str) -> Result<usize, ApiError> {
    Ok(diesel::delete(health_reports::table.filter(health_reports::day.lt(day))).execute(conn)?)
}
