//! The identity service: every write to users, grants, login sessions and
//! API tokens, and what admins read of them. The rules live here (username
//! syntax, password policy, a session's lifetime, a login that does not
//! reveal which usernames exist, a reset that ends sessions); the SQL is in
//! `db::queries::auth`, and diesel runs on the blocking pool through
//! `db::blocking`. HTTP handlers (`http/auth.rs`, `http/users.rs`) parse,
//! check that the caller may ask, and turn the answers into statuses.
//! Turning a credential into a `Principal` is `extract`'s.
//!
//! Every argon2id hash or check (19 MiB each, on the blocking pool) first
//! takes a place at the password `Gate` (`--password-concurrency`, twice
//! the cores by default). Logins are unauthenticated, so without it sixty
//! simultaneous attempts took the server from 318 MB to 1.1 GB; now a
//! newcomer waits up to `PASSWORD_WAIT` for a place and is answered 503
//! `unavailable` with `Retry-After` otherwise. Guarded by
//! `tests/security.rs` (`concurrent_logins_beyond_the_password_gate_get_503_and_the_right_password_still_logs_in`).
//!
//! Every admin write records who made it in the audit log, in its own
//! transaction (`db::queries::audit`). Demoting, disabling or deleting the
//! last enabled global admin is refused (`last_admin`).
//!
//! Guarded by `tests/security.rs` (user administration, logout, revocation),
//! `tests/identity.rs` (password reset) and `tests/manage_people.rs`
//! (disabling, the last admin, store admins' grants, the audit log).

use std::sync::LazyLock;

use chrono::{Duration, Utc};

use super::{hash_password, new_token, token_hash, verify_password, Principal, PrincipalKind, Role, Secret};
use crate::counted::{Gate, GatePass};
use serde_json::json;

use crate::db::queries::audit::{self, Action};
use crate::db::queries::auth::UserRow;
use crate::db::{self, queries::auth, Conn, DbPool};
use crate::error::ApiError;
use crate::model::StoreId;

pub use crate::db::queries::audit::AuditEntry;
pub use crate::db::queries::auth::TokenRow;

/// How long a login session lasts, in days.
pub const SESSION_DAYS: i64 = 7;

/// A real argon2id hash, verified against when the user is unknown.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_password(&new_token()).unwrap_or_default());

/// A login session just opened.
#[derive(Debug)]
pub struct LoggedIn {
    /// The session token: what the client sends as bearer token or cookie.
    pub token: Secret,
    pub username: String,
}

/// A user and their grants, as admins see them.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub grants: Vec<(StoreId, Role)>,
}

/// A change of a user's global flags (those given).
#[derive(Debug, Clone, Copy, Default)]
pub struct UserFlags {
    pub is_admin: Option<bool>,
    pub disabled: Option<bool>,
}

/// An API token just issued; the only time its secret is known.
#[derive(Debug)]
pub struct IssuedToken {
    pub id: i64,
    pub token: Secret,
}

/// How long a login or password change waits for a place at the password
/// gate before it is answered 503.
pub const PASSWORD_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// A place at the password gate, or `Busy`.
async fn password_place(gate: &Gate) -> Result<GatePass, ApiError> {
    gate.enter().await.ok_or_else(|| {
        log::warn!("password gate full: request turned away");
        ApiError::Busy("checking passwords")
    })
}

/// Hashes on the blocking pool (argon2 takes long enough to stall an HTTP
/// worker), holding a place at the password gate.
async fn hash_off_thread(gate: &Gate, password: Secret) -> Result<String, ApiError> {
    let _place = password_place(gate).await?;
    actix_web::rt::task::spawn_blocking(move || hash_password(password.expose()))
        .await
        .map_err(|e| ApiError::Internal(format!("hashing task failed: {e}")))?
}

/// Checks a password and opens a session of `SESSION_DAYS`; a wrong
/// username or password is `BadCredentials`, alike. `Busy` when the
/// password gate stayed full.
pub async fn login(pool: &DbPool, gate: &Gate, username: String, password: Secret) -> Result<LoggedIn, ApiError> {
    let _place = password_place(gate).await?;
    let token = new_token();
    let hash = token_hash(&token);
    let username = db::blocking(pool, move |conn| {
        let user = auth::user_by_name(conn, &username)?;
        // Verify against a fixed hash when the user is unknown, so timing
        // does not tell which usernames exist.
        let stored = user.as_ref().map_or(DUMMY_HASH.as_str(), |u| u.password_hash.as_str());
        let valid = verify_password(password.expose(), stored);
        let user = user.filter(|_| valid).ok_or(ApiError::BadCredentials)?;
        if user.disabled {
            return Err(ApiError::Forbidden("this account is disabled".into()));
        }
        let expires = Utc::now() + Duration::days(SESSION_DAYS);
        auth::create_session(conn, &hash, user.id, expires.naive_utc())?;
        Ok(user.username)
    })
    .await?;
    Ok(LoggedIn { token: Secret::new(token), username })
}

/// Ends the login session `who` authenticated with. An API token is not a
/// session: logging out with one is refused (`bad_request`) rather than
/// answered as a success that leaves the token working.
pub async fn logout(pool: &DbPool, who: &Principal) -> Result<(), ApiError> {
    if who.kind == PrincipalKind::ApiToken {
        return Err(ApiError::BadRequest(
            "an API token is not a login session; an administrator revokes it with DELETE /api/v1/admin/tokens/{id}"
                .into(),
        ));
    }
    let token_hash = who.token_hash.clone();
    db::blocking(pool, move |conn| Ok(auth::delete_session(conn, &token_hash)?)).await
}

/// Refuses a username that is not 1-64 characters of `A-Z a-z 0-9 . _ -`.
fn check_username(username: &str) -> Result<(), ApiError> {
    let valid =
        (1..=64).contains(&username.len()) && username.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid("username", "1-64 characters of A-Z a-z 0-9 . _ -".into()))
    }
}

/// Refuses a password shorter than 8 or longer than 1000 characters.
fn check_password(password: &Secret) -> Result<(), ApiError> {
    if (8..=1000).contains(&password.expose().len()) {
        Ok(())
    } else {
        Err(ApiError::invalid("password", "a password has 8-1000 characters".into()))
    }
}

/// Every user with their grants, by id. Grants whose stored role is not
/// one this build knows are left out.
pub async fn users(pool: &DbPool) -> Result<Vec<UserRecord>, ApiError> {
    db::blocking(pool, |conn| {
        let mut out = Vec::new();
        for (id, username, is_admin, disabled) in auth::users(conn)? {
            let grants =
                auth::grants(conn, id)?.into_iter().filter_map(|(store, role)| Some((store, Role::parse(&role)?)));
            out.push(UserRecord { id, username, is_admin, disabled, grants: grants.collect() });
        }
        Ok(out)
    })
    .await
}

/// How the audit log names a user.
fn user_target(conn: &mut Conn, user_id: i64) -> Result<Option<String>, ApiError> {
    Ok(auth::user(conn, user_id)?.map(|u| format!("user:{}", u.username)))
}

/// Refuses to leave no enabled global admin: `user` is one now and the
/// change would end that.
fn keep_an_admin(conn: &mut Conn, user: &UserRow, what: &str) -> Result<(), ApiError> {
    if user.is_admin && !user.disabled && auth::other_active_admins(conn, user.id)? == 0 {
        return Err(ApiError::LastAdmin(format!("{what} {}", user.username)));
    }
    Ok(())
}

/// Creates a user without grants; returns its id. A taken username is
/// `Conflict`. `by` (the admin) goes to the audit log, as in every write
/// below.
pub async fn create_user(
    pool: &DbPool,
    gate: &Gate,
    by: &str,
    username: String,
    password: Secret,
    is_admin: bool,
) -> Result<i64, ApiError> {
    check_username(&username)?;
    check_password(&password)?;
    let hash = hash_off_thread(gate, password).await?;
    let by = by.to_owned();
    db::blocking(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let id = auth::create_user_if_new(conn, &username, &hash, is_admin)?
                .ok_or_else(|| ApiError::Conflict(format!("user {username} exists")))?;
            let details = json!({ "is_admin": is_admin });
            audit::record(conn, &by, Action::UserCreated, &format!("user:{username}"), details)?;
            Ok(id)
        })
    })
    .await
}

/// Deletes a user, and with them their sessions, grants and tokens; whether
/// they existed. The last enabled global admin is refused (`last_admin`).
pub async fn delete_user(pool: &DbPool, by: &str, user_id: i64) -> Result<bool, ApiError> {
    let by = by.to_owned();
    db::blocking(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let Some(user) = auth::user(conn, user_id)? else {
                return Ok(false);
            };
            keep_an_admin(conn, &user, "deleting")?;
            auth::delete_user(conn, user_id)?;
            audit::record(conn, &by, Action::UserDeleted, &format!("user:{}", user.username), json!({}))?;
            Ok(true)
        })
    })
    .await
}

/// Makes a user a global admin or not, or disables or enables them. A
/// disabled user's sessions end with it (open WebSockets close within the
/// revalidate interval), their API tokens stop working and they cannot log
/// in. Demoting or disabling the last enabled global admin is refused
/// (`last_admin`). The user as now, `None` when there is none.
pub async fn update_user(
    pool: &DbPool,
    by: &str,
    user_id: i64,
    flags: UserFlags,
) -> Result<Option<UserRecord>, ApiError> {
    let by = by.to_owned();
    db::blocking(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let Some(user) = auth::user(conn, user_id)? else {
                return Ok(None);
            };
            if flags.is_admin == Some(false) {
                keep_an_admin(conn, &user, "demoting")?;
            }
            if flags.disabled == Some(true) {
                keep_an_admin(conn, &user, "disabling")?;
                auth::delete_sessions_of(conn, user_id)?;
            }
            auth::set_flags(conn, user_id, flags.is_admin, flags.disabled)?;
            let details = json!({ "is_admin": flags.is_admin, "disabled": flags.disabled });
            audit::record(conn, &by, Action::UserChanged, &format!("user:{}", user.username), details)?;
            let grants =
                auth::grants(conn, user_id)?.into_iter().filter_map(|(store, role)| Some((store, Role::parse(&role)?)));
            Ok(Some(UserRecord {
                id: user_id,
                username: user.username,
                is_admin: flags.is_admin.unwrap_or(user.is_admin),
                disabled: flags.disabled.unwrap_or(user.disabled),
                grants: grants.collect(),
            }))
        })
    })
    .await
}

/// Sets a user's password (checked like a new user's) and ends every
/// session of theirs in the same transaction, so a reset locks out whoever
/// knew the old one; whether the user exists. API tokens are untouched.
pub async fn reset_password(
    pool: &DbPool,
    gate: &Gate,
    by: &str,
    user_id: i64,
    password: Secret,
) -> Result<bool, ApiError> {
    check_password(&password)?;
    let hash = hash_off_thread(gate, password).await?;
    let by = by.to_owned();
    db::blocking(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let Some(target) = user_target(conn, user_id)? else {
                return Ok(false);
            };
            auth::replace_password(conn, user_id, &hash)?;
            audit::record(conn, &by, Action::PasswordReset, &target, json!({}))?;
            Ok(true)
        })
    })
    .await
}

/// Grants `role` on a store (slug `slug`), replacing any earlier grant
/// there; whether the user exists.
pub async fn put_grant(
    pool: &DbPool,
    by: &str,
    user_id: i64,
    store: StoreId,
    slug: &str,
    role: Role,
) -> Result<bool, ApiError> {
    let (by, slug) = (by.to_owned(), slug.to_owned());
    db::blocking(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let Some(target) = user_target(conn, user_id)? else {
                return Ok(false);
            };
            auth::grant(conn, user_id, store, role.as_str())?;
            audit::record(conn, &by, Action::GrantPut, &target, json!({ "store": slug, "role": role }))?;
            Ok(true)
        })
    })
    .await
}

/// Removes a user's grant on a store (slug `slug`); whether there was one.
pub async fn delete_grant(pool: &DbPool, by: &str, user_id: i64, store: StoreId, slug: &str) -> Result<bool, ApiError> {
    let (by, slug) = (by.to_owned(), slug.to_owned());
    db::blocking(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let target = user_target(conn, user_id)?;
            if !auth::revoke_grant(conn, user_id, store)? {
                return Ok(false);
            }
            let target = target.unwrap_or_else(|| format!("user:{user_id}"));
            audit::record(conn, &by, Action::GrantDeleted, &target, json!({ "store": slug }))?;
            Ok(true)
        })
    })
    .await
}

/// Every API token, by id (hashes only, never the secrets).
pub async fn tokens(pool: &DbPool) -> Result<Vec<TokenRow>, ApiError> {
    db::blocking(pool, |conn| Ok(auth::tokens(conn)?)).await
}

/// Issues an API token owned by `owner`, with `role` on `stores` (ids, and
/// their slugs for the audit log), expiring after `expires_in_days` (never
/// when `None`). Only its hash is stored.
pub async fn create_token(
    pool: &DbPool,
    by: &str,
    owner: i64,
    name: String,
    role: Role,
    stores: &[(StoreId, String)],
    expires_in_days: Option<u32>,
) -> Result<IssuedToken, ApiError> {
    let store_ids = stores.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>().join(",");
    let slugs: Vec<String> = stores.iter().map(|(_, slug)| slug.clone()).collect();
    let expires = expires_in_days.map(|d| (Utc::now() + Duration::days(i64::from(d))).naive_utc());
    let token = new_token();
    let hash = token_hash(&token);
    let by = by.to_owned();
    let id = db::blocking(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let id = auth::create_token(conn, &hash, &name, owner, role.as_str(), &store_ids, expires)?;
            let details = json!({ "name": name, "role": role, "stores": slugs, "expires_at": expires });
            audit::record(conn, &by, Action::TokenCreated, &format!("token:{id}"), details)?;
            Ok(id)
        })
    })
    .await?;
    Ok(IssuedToken { id, token: Secret::new(token) })
}

/// Revokes an API token (it stops working at once); whether it existed.
pub async fn revoke_token(pool: &DbPool, by: &str, token_id: i64) -> Result<bool, ApiError> {
    let by = by.to_owned();
    db::blocking(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            if !auth::revoke_token(conn, token_id)? {
                return Ok(false);
            }
            audit::record(conn, &by, Action::TokenRevoked, &format!("token:{token_id}"), json!({}))?;
            Ok(true)
        })
    })
    .await
}

/// The audit log, newest first: at most `limit` entries before id `before`.
pub async fn audit_log(pool: &DbPool, before: Option<i64>, limit: i64) -> Result<Vec<AuditEntry>, ApiError> {
    db::blocking(pool, move |conn| Ok(audit::page(conn, before, limit)?)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords_are_checked_with_their_field_named() {
        assert!(check_username("clerk.1_a-b").is_ok());
        for bad in ["", "has space", "ümlaut", &"x".repeat(65)] {
            let err = check_username(bad).unwrap_err();
            assert_eq!(
                (err.code(), err.body().error.details.unwrap()["field"].clone()),
                ("invalid_field", "username".into())
            );
        }
        assert!(check_password(&Secret::new("8 chars!".into())).is_ok());
        for bad in ["short", &"x".repeat(1001)] {
            let err = check_password(&Secret::new(bad.into())).unwrap_err();
            assert_eq!(err.body().error.details.unwrap()["field"], "password");
        }
    }
}
