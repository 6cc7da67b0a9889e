//! The `feedback` table: users' reports about how sync works for them, per
//! store (`model::feedback`).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::feedback;
use crate::db::Conn;
use crate::each_backend;
use crate::error::ApiError;
use crate::model::feedback::{Feedback, NewFeedback};

/// A report as stored; the statistics as JSON text.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = feedback)]
pub struct FeedbackRow {
    pub id: i64,
    pub store_id: i64,
    pub sent_by: String,
    pub rating: i64,
    pub comment: String,
    pub stats: String,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = feedback)]
struct NewRow<'a> {
    store_id: i64,
    sent_by: &'a str,
    rating: i64,
    comment: &'a str,
    stats: String,
    created_at: NaiveDateTime,
}

/// Stores a report; answers its id.
pub fn insert(conn: &mut Conn, store_id: i64, by: &str, new: &NewFeedback, at: DateTime<Utc>) -> Result<i64, ApiError> {
    let stats = serde_json::to_string(&new.stats).map_err(|e| ApiError::Internal(e.to_string()))?;
    let row =
        NewRow { store_id, sent_by: by, rating: new.rating, comment: &new.comment, stats, created_at: at.naive_utc() };
    let insert = diesel::insert_into(feedback::table).values(&row).returning(feedback::id);
    Ok(each_backend!(conn, |c| insert.get_result(c))?)
}

/// A store's latest reports, newest first, at most `limit`.
pub fn latest(conn: &mut Conn, store_id: i64, limit: i64) -> Result<Vec<Feedback>, ApiError> {
    feedback::table
        .filter(feedback::store_id.eq(store_id))
        .order(feedback::id.desc())
        .limit(limit)
        .select(FeedbackRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| {
            let stats = serde_json::from_str(&row.stats)
                .map_err(|e| ApiError::Internal(format!("feedback {} has unreadable stats: {e}", row.id)))?;
            Ok(Feedback {
                id: row.id,
                by: row.sent_by,
                rating: row.rating,
                comment: row.comment,
                stats,
                created_at: row.created_at.and_utc(),
            })
        })
        .collect()
}
