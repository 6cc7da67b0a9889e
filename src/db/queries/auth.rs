//! Users, sessions and grants: what authentication reads and writes. The
//! rules around them (who may call what, password policy) are
//! `auth::identity`'s; this module only knows the tables.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use crate::db::schema::{api_tokens, sessions, store_grants, users};
use crate::db::Conn;
use crate::each_backend;

/// A user as login sees it.
#[derive(Debug, Clone, Queryable)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub is_admin: bool,
    /// Disabled by an admin: no login, no session, no token works.
    pub disabled: bool,
}

/// The columns of a `UserRow`.
type UserColumns = (users::id, users::username, users::password_hash, users::is_admin, users::disabled);
const USER_COLUMNS: UserColumns = (users::id, users::username, users::password_hash, users::is_admin, users::disabled);

/// A user by name.
pub fn user_by_name(conn: &mut Conn, username: &str) -> QueryResult<Option<UserRow>> {
    users::table.filter(users::username.eq(username)).select(USER_COLUMNS).first(conn).optional()
}

/// Creates a user; returns its id.
pub fn create_user(conn: &mut Conn, username: &str, password_hash: &str, is_admin: bool) -> QueryResult<i64> {
    diesel::insert_into(users::table)
        .values((
            users::username.eq(username),
            users::password_hash.eq(password_hash),
            users::is_admin.eq(is_admin),
            users::created_at.eq(Utc::now().naive_utc()),
        ))
        .returning(users::id)
        .get_result(conn)
}

/// Creates a user unless the username is taken (`None` then). The UNIQUE
/// index decides, so two concurrent creates of one name cannot both pass.
pub fn create_user_if_new(
    conn: &mut Conn,
    username: &str,
    password_hash: &str,
    is_admin: bool,
) -> QueryResult<Option<i64>> {
    match create_user(conn, username, password_hash, is_admin) {
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(None),
        other => other.map(Some),
    }
}

/// Replaces a user's password hash and ends every session of theirs, in one
/// transaction: whoever logged in with the old password is out the moment
/// the new one counts. API tokens stay (they are revoked on their own).
/// Whether the user exists. Guarded by `tests/identity.rs`.
pub fn set_password(conn: &mut Conn, user_id: i64, password_hash: &str) -> QueryResult<bool> {
    crate::db::write_transaction(conn, |conn| replace_password(conn, user_id, password_hash))
}

/// `set_password` inside the caller's transaction.
pub fn replace_password(conn: &mut Conn, user_id: i64, password_hash: &str) -> QueryResult<bool> {
    let found =
        diesel::update(users::table.find(user_id)).set(users::password_hash.eq(password_hash)).execute(conn)? > 0;
    delete_sessions_of(conn, user_id)?;
    Ok(found)
}

/// Sets a user's global-admin and disabled flags (those given).
pub fn set_flags(conn: &mut Conn, user_id: i64, is_admin: Option<bool>, disabled: Option<bool>) -> QueryResult<()> {
    if let Some(is_admin) = is_admin {
        diesel::update(users::table.find(user_id)).set(users::is_admin.eq(is_admin)).execute(conn)?;
    }
    if let Some(disabled) = disabled {
        diesel::update(users::table.find(user_id)).set(users::disabled.eq(disabled)).execute(conn)?;
    }
    Ok(())
}

/// How many enabled global admins there are besides `user_id`.
pub fn other_active_admins(conn: &mut Conn, user_id: i64) -> QueryResult<i64> {
    users::table
        .filter(users::is_admin.eq(true).and(users::disabled.eq(false)).and(users::id.ne(user_id)))
        .count()
        .get_result(conn)
}

/// Grants `role` on a store.
pub fn grant(conn: &mut Conn, user_id: i64, store_id: i64, role: &str) -> QueryResult<()> {
    let upsert = diesel::insert_into(store_grants::table)
        .values((store_grants::user_id.eq(user_id), store_grants::store_id.eq(store_id), store_grants::role.eq(role)))
        .on_conflict((store_grants::user_id, store_grants::store_id))
        .do_update()
        .set(store_grants::role.eq(role));
    each_backend!(conn, |c| upsert.execute(c))?;
    Ok(())
}

/// A user's grants as (store id, role).
pub fn grants(conn: &mut Conn, user_id: i64) -> QueryResult<Vec<(i64, String)>> {
    store_grants::table
        .filter(store_grants::user_id.eq(user_id))
        .select((store_grants::store_id, store_grants::role))
        .load(conn)
}

/// Stores a new session.
pub fn create_session(conn: &mut Conn, token_hash: &str, user_id: i64, expires_at: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(token_hash),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(Utc::now().naive_utc()),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Ends a session.
pub fn delete_session(conn: &mut Conn, token_hash: &str) -> QueryResult<()> {
    diesel::delete(sessions::table.find(token_hash)).execute(conn)?;
    Ok(())
}

/// The user of a live (unexpired) session of an enabled user.
pub fn session_user(conn: &mut Conn, token_hash: &str) -> QueryResult<Option<UserRow>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(Utc::now().naive_utc()))
        .filter(users::disabled.eq(false))
        .select(USER_COLUMNS)
        .first(conn)
        .optional()
}

/// An API token as stored (never the token itself).
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = api_tokens)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub user_id: i64,
    pub role: String,
    /// Comma-separated store ids the token is scoped to.
    pub store_ids: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked: bool,
}

/// Stores a new API token's hash; returns its id.
pub fn create_token(
    conn: &mut Conn,
    hash: &str,
    name: &str,
    user_id: i64,
    role: &str,
    store_ids: &str,
    expires_at: Option<NaiveDateTime>,
) -> QueryResult<i64> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::token_hash.eq(hash),
            api_tokens::name.eq(name),
            api_tokens::user_id.eq(user_id),
            api_tokens::role.eq(role),
            api_tokens::store_ids.eq(store_ids),
            api_tokens::created_at.eq(Utc::now().naive_utc()),
            api_tokens::expires_at.eq(expires_at),
            api_tokens::revoked.eq(false),
        ))
        .returning(api_tokens::id)
        .get_result(conn)
}

/// Every API token.
pub fn tokens(conn: &mut Conn) -> QueryResult<Vec<TokenRow>> {
    api_tokens::table.order(api_tokens::id).select(TokenRow::as_select()).load(conn)
}

/// Revokes a token; whether it existed.
pub fn revoke_token(conn: &mut Conn, id: i64) -> QueryResult<bool> {
    Ok(diesel::update(api_tokens::table.find(id)).set(api_tokens::revoked.eq(true)).execute(conn)? > 0)
}

/// A live (unrevoked, unexpired) token by hash.
pub fn live_token(conn: &mut Conn, hash: &str) -> QueryResult<Option<TokenRow>> {
    let now = Utc::now().naive_utc();
    api_tokens::table
        .filter(api_tokens::token_hash.eq(hash))
        .filter(api_tokens::revoked.eq(false))
        .filter(api_tokens::expires_at.is_null().or(api_tokens::expires_at.gt(now)))
        .select(TokenRow::as_select())
        .first(conn)
        .optional()
}

/// A user by id.
pub fn user(conn: &mut Conn, id: i64) -> QueryResult<Option<UserRow>> {
    users::table.find(id).select(USER_COLUMNS).first(conn).optional()
}

/// Every user, without hashes: id, name, global admin, disabled.
pub fn users(conn: &mut Conn) -> QueryResult<Vec<(i64, String, bool, bool)>> {
    users::table.order(users::id).select((users::id, users::username, users::is_admin, users::disabled)).load(conn)
}

/// Deletes a user (their sessions, grants and tokens go with them).
pub fn delete_user(conn: &mut Conn, id: i64) -> QueryResult<bool> {
    Ok(diesel::delete(users::table.find(id)).execute(conn)? > 0)
}

/// Removes a grant; whether there was one.
pub fn revoke_grant(conn: &mut Conn, user_id: i64, store_id: i64) -> QueryResult<bool> {
    Ok(diesel::delete(store_grants::table.find((user_id, store_id))).execute(conn)? > 0)
}

/// Ends every session of a user (password change, deletion).
pub fn delete_sessions_of(conn: &mut Conn, user_id: i64) -> QueryResult<()> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
    Ok(())
}
