//! The `events` table: the transactional outbox and audit trail.

use diesel::prelude::*;

use crate::db::models::EventRow;
use crate::db::schema::events;
use crate::db::Conn;
use crate::each_backend;
use crate::error::ApiError;
use crate::model::history::{HistoryEntry, ProductHistory};
use crate::model::{Event, EventKind, Seq};

/// Events of a store after `since`, oldest first, at most `limit`.
pub fn since(conn: &mut Conn, store_id: i64, since: Seq, limit: i64) -> Result<Vec<Event>, ApiError> {
    events::table
        .filter(events::store_id.eq(store_id).and(events::seq.gt(since)))
        .order(events::seq.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_event)
        .collect()
}

/// Appends events (within the caller's transaction).
pub fn append<'a>(conn: &mut Conn, store_id: i64, new: impl IntoIterator<Item = &'a Event>) -> QueryResult<()> {
    let rows: Vec<EventRow> = new.into_iter().map(|e| EventRow::from_event(store_id, e)).collect();
    // SQLite caps bound parameters per statement; 7 columns x 1000 rows fits.
    for chunk in rows.chunks(1000) {
        let insert = diesel::insert_into(events::table).values(chunk);
        each_backend!(conn, |c| insert.execute(c))?;
    }
    Ok(())
}

/// Which events an audit query reads; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_id: Option<i64>,
    pub kind: Option<&'static str>,
    pub actor: Option<String>,
    pub from: Option<chrono::NaiveDateTime>,
    pub to: Option<chrono::NaiveDateTime>,
}

/// The lowest and highest seq of a store's events in the filter's time
/// range (`None` when it holds none), read from the (store, at, seq)
/// index alone.
fn seq_span(conn: &mut Conn, store_id: i64, filter: &AuditFilter) -> QueryResult<Option<(Seq, Seq)>> {
    use diesel::dsl::{max, min};
    let span: (Option<Seq>, Option<Seq>) = each_backend!(conn, |c| {
        let mut query = events::table.filter(events::store_id.eq(store_id)).into_boxed();
        if let Some(from) = filter.from {
            query = query.filter(events::at.ge(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(events::at.lt(to));
        }
        query.select((min(events::seq), max(events::seq))).first(c)
    })?;
    Ok(span.0.zip(span.1))
}

/// Events of a store after `after` that pass `filter`, oldest first, at
/// most `limit`. Bounded by an index whatever the filter: the entity's
/// (store, entity, seq), else the seqs a time range spans (found on the
/// (store, at, seq) index), else (store, seq).
pub fn audit(
    conn: &mut Conn,
    store_id: i64,
    filter: &AuditFilter,
    after: Seq,
    limit: i64,
) -> Result<Vec<Event>, ApiError> {
    let (low, high) = if filter.from.is_some() || filter.to.is_some() {
        match seq_span(conn, store_id, filter)? {
            Some(span) => span,
            None => return Ok(Vec::new()),
        }
    } else {
        (0, Seq::MAX)
    };
    let rows: Vec<EventRow> = each_backend!(conn, |c| {
        let mut query = events::table
            .filter(events::store_id.eq(store_id).and(events::seq.gt(after.max(low - 1))).and(events::seq.le(high)))
            .select(EventRow::as_select())
            .into_boxed();
        if let Some(entity_id) = filter.entity_id {
            query = query.filter(events::entity_id.eq(entity_id));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(events::kind.eq(kind));
        }
        if let Some(actor) = &filter.actor {
            query = query.filter(events::actor.eq(actor));
        }
        if let Some(from) = filter.from {
            query = query.filter(events::at.ge(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(events::at.lt(to));
        }
        query.order(events::seq.asc()).limit(limit).load(c)
    })?;
    rows.into_iter().map(EventRow::into_event).collect()
}

/// Events read per query while walking a product's history.
const HISTORY_CHUNK: i64 = 1000;

/// The changes of product `id` of a store after seq `after`, oldest
/// first, at most `limit`: its events walked from the first (on the
/// (store, entity, seq) index), as the value before each change is the
/// last one an earlier event set.
pub fn product_history(
    conn: &mut Conn,
    store_id: i64,
    id: i64,
    after: Seq,
    limit: usize,
) -> Result<Vec<HistoryEntry>, ApiError> {
    let kinds: Vec<&str> = EventKind::ALL.into_iter().filter(|k| k.is_product()).map(EventKind::as_str).collect();
    let mut history = ProductHistory::default();
    let mut entries = Vec::new();
    let mut cursor = 0;
    loop {
        let rows: Vec<EventRow> = events::table
            .filter(events::store_id.eq(store_id).and(events::entity_id.eq(id)).and(events::seq.gt(cursor)))
            .filter(events::kind.eq_any(&kinds))
            .order(events::seq.asc())
            .limit(HISTORY_CHUNK)
            .select(EventRow::as_select())
            .load(conn)?;
        let read = rows.len() as i64;
        for row in rows {
            let event = row.into_event()?;
            cursor = event.seq;
            let Some(entry) = history.apply(&event) else { continue };
            if event.seq > after {
                entries.push(entry);
                if entries.len() == limit {
                    return Ok(entries);
                }
            }
        }
        if read < HISTORY_CHUNK {
            return Ok(entries);
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::Text;

    use super::*;

    #[derive(QueryableByName)]
    struct PlanStep {
        #[diesel(sql_type = Text)]
        detail: String,
    }

    /// SQLite's plan of the audit queries: each filter searches an index
    /// instead of scanning the store's events.
    #[test]
    fn audit_filters_search_their_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::connect(&crate::config::Config::for_data_dir(dir.path().to_path_buf())).unwrap();
        crate::db::migrate(&pool).unwrap();
        let mut conn = pool.get().unwrap();
        let Conn::Sqlite(conn) = &mut *conn else { panic!("a data dir's database is SQLite") };
        let mut plan = |sql: &str| -> String {
            let steps: Vec<PlanStep> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).load(conn).unwrap();
            steps.into_iter().map(|s| s.detail).collect::<Vec<_>>().join("; ")
        };
        let by_entity = plan(
            "SELECT * FROM events WHERE store_id = 1 AND seq > 0 AND seq <= 9223372036854775807 AND entity_id = 5 \
             ORDER BY seq LIMIT 100",
        );
        assert!(by_entity.contains("USING INDEX events_by_entity"), "{by_entity}");
        let span = plan(
            "SELECT min(seq), max(seq) FROM events WHERE store_id = 1 AND at >= '2026-01-01' AND at < '2026-02-01'",
        );
        assert!(span.contains("USING COVERING INDEX events_by_time"), "{span}");
    }
}
