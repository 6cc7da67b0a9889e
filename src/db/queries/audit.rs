//! The audit log of admin changes: who changed which user, grant, API token
//! or store, what, and when. Each entry is written in the transaction of
//! the change it records, so the log holds exactly the changes that were
//! made. A store's own history of data changes is its `events`.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::audit_log;
use crate::db::Conn;

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    UserCreated,
    UserChanged,
    UserDeleted,
    PasswordReset,
    GrantPut,
    GrantDeleted,
    TokenCreated,
    TokenRevoked,
    StoreCreated,
    StoreUpdated,
    StoreArchived,
    StoreRestored,
    StoreDeleted,
}

impl Action {
    /// The stored (and listed) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserCreated => "user.created",
            Self::UserChanged => "user.changed",
            Self::UserDeleted => "user.deleted",
            Self::PasswordReset => "user.password_reset",
            Self::GrantPut => "grant.put",
            Self::GrantDeleted => "grant.deleted",
            Self::TokenCreated => "token.created",
            Self::TokenRevoked => "token.revoked",
            Self::StoreCreated => "store.created",
            Self::StoreUpdated => "store.updated",
            Self::StoreArchived => "store.archived",
            Self::StoreRestored => "store.restored",
            Self::StoreDeleted => "store.deleted",
        }
    }
}

/// One audit entry as admins read it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who made the change (`user:<name>`).
    pub actor: String,
    /// `user.created`, `user.changed`, `user.deleted`, `user.password_reset`,
    /// `grant.put`, `grant.deleted`, `token.created`, `token.revoked`,
    /// `store.created`, `store.updated`, `store.archived`,
    /// `store.restored`, `store.deleted`.
    pub action: String,
    /// What was changed: `user:<name>`, `token:<id>`, `store:<slug>`.
    pub target: String,
    /// The change itself (never a secret).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// An `audit_log` row as stored (`details` is JSON text).
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
}

/// Appends an entry, inside the caller's transaction.
pub fn record(
    conn: &mut Conn,
    actor: &str,
    action: Action,
    target: &str,
    details: serde_json::Value,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(Utc::now().naive_utc()),
            audit_log::actor.eq(actor),
            audit_log::action.eq(action.as_str()),
            audit_log::target.eq(target),
            audit_log::details.eq(details.to_string()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The newest `limit` entries before id `before` (all when `None`), newest
/// first.
pub fn page(conn: &mut Conn, before: Option<i64>, limit: i64) -> QueryResult<Vec<AuditEntry>> {
    let rows: Vec<AuditRow> = audit_log::table
        .filter(audit_log::id.lt(before.unwrap_or(i64::MAX)))
        .order(audit_log::id.desc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: r.at.and_utc(),
            actor: r.actor,
            action: r.action,
            target: r.target,
            details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
        })
        .collect())
}
