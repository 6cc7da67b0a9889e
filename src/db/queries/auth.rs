//! Users, sessions and grants: what authentication reads and writes.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{sessions, store_grants, users};
use crate::db::Conn;

/// A user as login sees it.
#[derive(Debug, Clone, Queryable)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub is_admin: bool,
}

/// A user by name.
pub fn user_by_name(conn: &mut Conn, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select((
            users::id,
            users::username,
            users::password_hash,
            users::is_admin,
        ))
        .first(conn)
        .optional()
}

/// Creates a user; returns its id.
pub fn create_user(
    conn: &mut Conn,
    username: &str,
    password_hash: &str,
    is_admin: bool,
) -> QueryResult<i64> {
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

/// Replaces a user's password hash.
pub fn set_password(conn: &mut Conn, user_id: i64, password_hash: &str) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::password_hash.eq(password_hash))
        .execute(conn)?;
    Ok(())
}

/// Grants `role` on a store.
pub fn grant(conn: &mut Conn, user_id: i64, store_id: i64, role: &str) -> QueryResult<()> {
    diesel::insert_into(store_grants::table)
        .values((
            store_grants::user_id.eq(user_id),
            store_grants::store_id.eq(store_id),
            store_grants::role.eq(role),
        ))
        .on_conflict((store_grants::user_id, store_grants::store_id))
        .do_update()
        .set(store_grants::role.eq(role))
        .execute(conn)?;
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
pub fn create_session(
    conn: &mut Conn,
    token_hash: &str,
    user_id: i64,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
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

/// The user of a live (unexpired) session.
pub fn session_user(conn: &mut Conn, token_hash: &str) -> QueryResult<Option<UserRow>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(Utc::now().naive_utc()))
        .select((
            users::id,
            users::username,
            users::password_hash,
            users::is_admin,
        ))
        .first(conn)
        .optional()
}
