//! The `scheduled_changes` table (`model::schedule`): written only by group
//! commit (`queries/commit.rs`), read by the REST handlers and polled by
//! every node's scheduler (`store::scheduler`).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::auth::Role;
use crate::db::queries::auth::{self, TokenRow};
use crate::db::schema::{api_tokens, scheduled_changes, store_grants};
use crate::db::Conn;
use crate::each_backend;
use crate::error::ApiError;
use crate::model::schedule::{ScheduleStatus, ScheduledChange, ScheduledOp, MAX_PENDING};
use crate::model::{Seq, StoreId};

/// A scheduled change as stored; its change as JSON.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = scheduled_changes)]
pub struct ScheduledRow {
    pub id: i64,
    pub store_id: i64,
    pub change: String,
    pub due_at: NaiveDateTime,
    pub created_by: String,
    pub user_id: i64,
    pub token_id: Option<i64>,
    pub status: String,
    pub late: bool,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub applied_seq: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ScheduledRow {
    /// The row as the API answers it.
    pub fn into_scheduled(self) -> Result<ScheduledChange, ApiError> {
        let unreadable =
            |what: &str| ApiError::Internal(format!("scheduled change {} has an unreadable {what}", self.id));
        let change = serde_json::from_str(&self.change).map_err(|_| unreadable("change"))?;
        let status = ScheduleStatus::parse(&self.status).ok_or_else(|| unreadable("status"))?;
        Ok(ScheduledChange {
            id: self.id,
            due_at: self.due_at.and_utc(),
            change,
            status,
            late: self.late,
            reason: self.reason,
            message: self.message,
            applied_seq: self.applied_seq,
            created_by: self.created_by,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }

    /// Whether it is still waiting for its time at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.status == ScheduleStatus::Pending.as_str() && self.due_at > now.naive_utc()
    }
}

#[derive(Insertable)]
#[diesel(table_name = scheduled_changes)]
struct NewRow<'a> {
    store_id: i64,
    change: String,
    due_at: NaiveDateTime,
    created_by: &'a str,
    user_id: i64,
    token_id: Option<i64>,
    status: &'static str,
    late: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn op_json(op: &ScheduledOp) -> Result<String, ApiError> {
    serde_json::to_string(op).map_err(|e| ApiError::Internal(format!("scheduled change json: {e}")))
}

/// Who scheduled a change: the principal's name, user and API token.
pub struct Author<'a> {
    pub name: &'a str,
    pub user_id: i64,
    pub token_id: Option<i64>,
}

/// Stores a new pending change; refuses one past the store's
/// `MAX_PENDING`.
pub fn insert(
    conn: &mut Conn,
    store_id: StoreId,
    due_at: DateTime<Utc>,
    op: &ScheduledOp,
    author: Author,
    now: DateTime<Utc>,
) -> Result<ScheduledChange, ApiError> {
    let pending: i64 = scheduled_changes::table
        .filter(scheduled_changes::store_id.eq(store_id))
        .filter(scheduled_changes::status.eq(ScheduleStatus::Pending.as_str()))
        .count()
        .get_result(conn)?;
    if pending >= MAX_PENDING {
        return Err(ApiError::Limit(format!("a store keeps at most {MAX_PENDING} pending scheduled changes")));
    }
    let row = NewRow {
        store_id,
        change: op_json(op)?,
        due_at: due_at.naive_utc(),
        created_by: author.name,
        user_id: author.user_id,
        token_id: author.token_id,
        status: ScheduleStatus::Pending.as_str(),
        late: false,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    let insert = diesel::insert_into(scheduled_changes::table).values(&row).returning(scheduled_changes::id);
    let id: i64 = each_backend!(conn, |c| insert.get_result(c))?;
    get(conn, store_id, id)?.into_scheduled()
}

/// A store's scheduled change by id.
pub fn get(conn: &mut Conn, store_id: StoreId, id: i64) -> Result<ScheduledRow, ApiError> {
    scheduled_changes::table
        .find(id)
        .filter(scheduled_changes::store_id.eq(store_id))
        .select(ScheduledRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("scheduled change {id}")))
}

/// A store's scheduled changes, of one status or all, at most `limit`:
/// pending ones soonest first, the others latest first.
pub fn list(
    conn: &mut Conn,
    store_id: StoreId,
    status: Option<ScheduleStatus>,
    limit: i64,
) -> Result<Vec<ScheduledChange>, ApiError> {
    let statuses: Vec<&str> = ScheduleStatus::ALL
        .into_iter()
        .filter(|s| status.is_none_or(|wanted| wanted == *s))
        .map(|s| s.as_str())
        .collect();
    let query = scheduled_changes::table
        .filter(scheduled_changes::store_id.eq(store_id))
        .filter(scheduled_changes::status.eq_any(statuses))
        .select(ScheduledRow::as_select())
        .limit(limit);
    let rows: Vec<ScheduledRow> = match status {
        Some(ScheduleStatus::Pending) => query.order((scheduled_changes::due_at, scheduled_changes::id)).load(conn)?,
        _ => query.order((scheduled_changes::due_at.desc(), scheduled_changes::id.desc())).load(conn)?,
    };
    rows.into_iter().map(ScheduledRow::into_scheduled).collect()
}

/// Sets a pending change's time and change.
pub fn edit(
    conn: &mut Conn,
    id: i64,
    due_at: DateTime<Utc>,
    op: &ScheduledOp,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    diesel::update(scheduled_changes::table.find(id))
        .set((
            scheduled_changes::due_at.eq(due_at.naive_utc()),
            scheduled_changes::change.eq(op_json(op)?),
            scheduled_changes::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// How a pending change ended.
pub struct Settled {
    pub status: ScheduleStatus,
    pub late: bool,
    /// The failure's code and message.
    pub failure: Option<(&'static str, String)>,
    pub applied_seq: Option<Seq>,
    pub at: DateTime<Utc>,
    pub id: i64,
}

/// Claims a pending change for the run that applies it: whether it was
/// pending. The `WHERE status = 'pending'` is what makes a change run once:
/// a second run, on this node or another, or after a restart, claims
/// nothing. The run settles it in the same transaction (`settle`).
pub fn claim(conn: &mut Conn, id: i64, at: DateTime<Utc>) -> Result<bool, ApiError> {
    let pending =
        scheduled_changes::table.find(id).filter(scheduled_changes::status.eq(ScheduleStatus::Pending.as_str()));
    let claimed = diesel::update(pending)
        .set((
            scheduled_changes::status.eq(ScheduleStatus::Applied.as_str()),
            scheduled_changes::updated_at.eq(at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(claimed == 1)
}

/// Records how a change ended.
pub fn settle(conn: &mut Conn, settled: Settled) -> Result<(), ApiError> {
    let (reason, message) = settled.failure.map_or((None, None), |(code, message)| (Some(code), Some(message)));
    diesel::update(scheduled_changes::table.find(settled.id))
        .set((
            scheduled_changes::status.eq(settled.status.as_str()),
            scheduled_changes::late.eq(settled.late),
            scheduled_changes::reason.eq(reason),
            scheduled_changes::message.eq(message),
            scheduled_changes::applied_seq.eq(settled.applied_seq),
            scheduled_changes::updated_at.eq(settled.at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A pending change whose time has come.
#[derive(Debug, Clone, Queryable)]
pub struct Due {
    pub store_id: StoreId,
    pub id: i64,
    pub created_by: String,
}

/// The pending changes due at `now`, soonest first, at most `limit`.
pub fn due(conn: &mut Conn, now: DateTime<Utc>, limit: i64) -> QueryResult<Vec<Due>> {
    scheduled_changes::table
        .filter(scheduled_changes::status.eq(ScheduleStatus::Pending.as_str()))
        .filter(scheduled_changes::due_at.le(now.naive_utc()))
        .order((scheduled_changes::due_at, scheduled_changes::id))
        .limit(limit)
        .select((scheduled_changes::store_id, scheduled_changes::id, scheduled_changes::created_by))
        .load(conn)
}

/// Whether the author of a scheduled change may still edit the store at
/// `now`: the user exists, is enabled and holds editor or more on it, and
/// a change scheduled with an API token needs that token live, scoped to
/// the store and editor or more too (as `auth::extract` would judge them).
pub fn author_may_edit(
    conn: &mut Conn,
    store_id: StoreId,
    user_id: i64,
    token_id: Option<i64>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    if auth::user(conn, user_id)?.is_none_or(|u| u.disabled) {
        return Ok(false);
    }
    let granted: Option<String> =
        store_grants::table.find((user_id, store_id)).select(store_grants::role).first(conn).optional()?;
    let Some(mut role) = granted.as_deref().and_then(Role::parse) else {
        return Ok(false);
    };
    if let Some(token_id) = token_id {
        let token: Option<TokenRow> =
            api_tokens::table.find(token_id).select(TokenRow::as_select()).first(conn).optional()?;
        let Some(token) = token.filter(|t| !t.revoked && t.expires_at.is_none_or(|at| at > now.naive_utc())) else {
            return Ok(false);
        };
        let scoped = token.store_ids.split(',').any(|s| s.trim().parse::<i64>().ok() == Some(store_id));
        match Role::parse(&token.role) {
            Some(token_role) if scoped => role = role.min(token_role),
            _ => return Ok(false),
        }
    }
    Ok(role >= Role::Editor)
}
