//! The `events` table: the transactional outbox and audit trail.

use diesel::prelude::*;

use crate::db::models::EventRow;
use crate::db::schema::events;
use crate::db::Conn;
use crate::each_backend;
use crate::error::ApiError;
use crate::model::{Event, Seq};

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
