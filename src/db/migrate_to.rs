//! `storesync migrate-to <DATABASE_URL>`: copies every table of the
//! configured database into an empty one (typically SQLite to PostgreSQL),
//! ids, seqs, password and token hashes as stored, in one transaction on the
//! target. Rows stream from the source and go in by chunks, so a big store
//! is never held in memory whole.

use chrono::NaiveDateTime;
use diesel::connection::DefaultLoadingMode;
use diesel::pg::PgRowByRowLoadingMode;
use diesel::prelude::*;

use super::models::{DailySalesRow, DashboardRow, EventRow, ProductRow, SavedViewRow, StoreRow};
use super::queries::audit::AuditRow;
use super::queries::feedback::FeedbackRow;
use super::queries::kpis::KpiRow;
use super::queries::scheduled::ScheduledRow;
use super::queries::sync_stats::{ReportRow, StatRow};
use super::schema::{
    api_tokens, audit_log, daily_sales, dashboard, events, feedback, id_counters, idempotency_keys, products, sales,
    saved_views, scheduled_changes, sessions, store_grants, stores, users,
};
use super::schema::{health_reports, kpis, sync_stats};
use super::Conn;
use crate::config::{Config, Database};
use crate::each_backend;

/// Rows per insert: 1,000 rows of the widest table (products, 14 columns)
/// stay under both backends' limits on bound parameters.
const CHUNK: usize = 1000;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
struct UserRow {
    id: i64,
    username: String,
    password_hash: String,
    is_admin: bool,
    created_at: NaiveDateTime,
    disabled: bool,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = store_grants)]
struct GrantRow {
    user_id: i64,
    store_id: i64,
    role: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    token_hash: String,
    user_id: i64,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
struct TokenRow {
    id: i64,
    token_hash: String,
    name: String,
    user_id: i64,
    role: String,
    store_ids: String,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
    revoked: bool,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sales)]
struct SaleRow {
    id: i64,
    store_id: i64,
    order_ref: Option<String>,
    amount: i64,
    lines: String,
    at: NaiveDateTime,
    recorded_by: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = id_counters)]
struct IdCounterRow {
    store_id: i64,
    kind: String,
    last: i64,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
struct IdempotencyRow {
    store_id: i64,
    principal: String,
    key: String,
    fingerprint: String,
    seq: i64,
    outcome: String,
    created_at: NaiveDateTime,
}

/// Copies `rows` into the target `CHUNK` at a time; answers how many.
fn copy_rows<R>(
    rows: impl Iterator<Item = QueryResult<R>>,
    target: &mut Conn,
    insert: impl Fn(&mut Conn, &[R]) -> QueryResult<usize>,
) -> QueryResult<usize> {
    let (mut chunk, mut copied) = (Vec::with_capacity(CHUNK), 0);
    for row in rows {
        chunk.push(row?);
        if chunk.len() == CHUNK {
            copied += insert(target, &chunk)?;
            chunk.clear();
        }
    }
    if !chunk.is_empty() {
        copied += insert(target, &chunk)?;
    }
    Ok(copied)
}

/// Copies one table, row struct `$row`; answers (table name, rows). Rows
/// are read one at a time on both backends (PostgreSQL would otherwise
/// fetch the whole table first).
macro_rules! copy_table {
    ($source:expr, $target:expr, $table:ident, $row:ty) => {{
        let insert = |target: &mut Conn, rows: &[$row]| {
            let insert = diesel::insert_into($table::table).values(rows);
            each_backend!(target, |c| insert.execute(c))
        };
        let copied = match $source {
            Conn::Sqlite(c) => copy_rows(
                $table::table.select(<$row>::as_select()).load_iter::<$row, DefaultLoadingMode>(c)?,
                $target,
                insert,
            ),
            Conn::Pg(c) => copy_rows(
                $table::table.select(<$row>::as_select()).load_iter::<$row, PgRowByRowLoadingMode>(c)?,
                $target,
                insert,
            ),
        };
        (stringify!($table), copied?)
    }};
}

/// Copies every table, parents before the rows that refer to them.
fn copy_tables(source: &mut Conn, target: &mut Conn) -> QueryResult<Vec<(&'static str, usize)>> {
    Ok(vec![
        copy_table!(source, target, stores, StoreRow),
        copy_table!(source, target, users, UserRow),
        copy_table!(source, target, store_grants, GrantRow),
        copy_table!(source, target, sessions, SessionRow),
        copy_table!(source, target, api_tokens, TokenRow),
        copy_table!(source, target, products, ProductRow),
        copy_table!(source, target, dashboard, DashboardRow),
        copy_table!(source, target, sales, SaleRow),
        copy_table!(source, target, daily_sales, DailySalesRow),
        copy_table!(source, target, events, EventRow),
        copy_table!(source, target, id_counters, IdCounterRow),
        copy_table!(source, target, idempotency_keys, IdempotencyRow),
        copy_table!(source, target, feedback, FeedbackRow),
        copy_table!(source, target, audit_log, AuditRow),
        copy_table!(source, target, saved_views, SavedViewRow),
        copy_table!(source, target, scheduled_changes, ScheduledRow),
        copy_table!(source, target, sync_stats, StatRow),
        copy_table!(source, target, health_reports, ReportRow),
        copy_table!(source, target, kpis, KpiRow),
    ])
}

/// Copies the database of `config` into the empty database at `url`, after
/// applying the target's migrations; answers the one-line summary. Refuses
/// the source itself, an unknown scheme, and a target that has stores.
pub fn run(config: &Config, url: &str) -> Result<String, String> {
    let source = config.database()?;
    let target = Config { database_url: Some(url.to_owned()), ..config.clone() };
    let target_db = target.database()?;
    if same_database(&source, &target_db) {
        return Err(format!("the target {} is the source database", target_db.describe()));
    }
    // Opening an SQLite path creates the file: an absent source is a typo.
    if let Database::Sqlite(path) = &source {
        if !path.exists() {
            return Err(format!("no source database at {}", path.display()));
        }
    }
    let mut from = super::connect(config)?.get().map_err(|e| e.to_string())?;
    if !super::migrations_current(&mut from).map_err(|e| e.to_string())? {
        return Err(format!("the source {} has pending migrations: run `storesync migrate` first", source.describe()));
    }
    let pool = super::connect(&target)?;
    super::migrate(&pool)?;
    let mut to = pool.get().map_err(|e| e.to_string())?;
    let target_name = target_db.describe();
    // Under the setup lock: a node starting on the target meanwhile waits,
    // then finds the stores and seeds nothing.
    let copied = super::with_setup_lock(&mut to, |to| {
        let stores: i64 = stores::table.count().get_result(to).map_err(|e| e.to_string())?;
        if stores > 0 {
            return Err(format!(
                "the target {target_name} already has {stores} stores: migrate-to needs an empty database"
            ));
        }
        super::write_transaction(to, |to| {
            // One snapshot of the source, even if a node still writes to it.
            let copied = from.transaction(|from| copy_tables(from, to))?;
            super::seed::advance_id_sequences(to)?;
            Ok::<_, diesel::result::Error>(copied)
        })
        .map_err(|e| format!("copying into {target_name} failed: {e}"))
    })?;
    let counts: Vec<String> = copied.iter().map(|(table, rows)| format!("{table}={rows}")).collect();
    Ok(format!("copied {} into {target_name}: {}", source.describe(), counts.join(" ")))
}

/// Whether both name the same database: the same SQLite file (however the
/// path is spelt) or the same PostgreSQL URL.
fn same_database(a: &Database, b: &Database) -> bool {
    match (a, b) {
        (Database::Sqlite(a), Database::Sqlite(b)) => {
            let canonical = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
            canonical(a) == canonical(b)
        }
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use diesel::sqlite::SqliteConnection;
    use diesel_migrations::MigrationHarness;

    use super::*;

    fn migrated() -> Conn {
        let mut conn = Conn::Sqlite(SqliteConnection::establish(":memory:").unwrap());
        conn.run_pending_migrations(super::super::SQLITE_MIGRATIONS).unwrap();
        conn
    }

    #[derive(QueryableByName)]
    struct Table {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }

    /// A table a migration adds must be copied too, or migrate-to would
    /// leave its rows behind without a word.
    #[test]
    fn every_table_the_migrations_create_is_copied() {
        let (mut source, mut target) = (migrated(), migrated());
        let mut copied: Vec<String> =
            copy_tables(&mut source, &mut target).unwrap().into_iter().map(|(table, _)| table.to_owned()).collect();
        let Conn::Sqlite(sqlite) = &mut source else { unreachable!() };
        let mut tables: Vec<String> = diesel::sql_query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' \
             AND name != '__diesel_schema_migrations'",
        )
        .load::<Table>(sqlite)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
        copied.sort();
        tables.sort();
        assert_eq!(copied, tables);
    }
}
