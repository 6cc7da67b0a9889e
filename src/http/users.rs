//! Administration of identities: users, their passwords, flags and store
//! grants, API tokens for integrations, and the audit log. Only global
//! admins manage users and tokens; a store admin manages the grants of the
//! stores they administer (and sees users with those grants only). A token
//! is shown once, stored as a hash, scoped to stores and a role (never more
//! than its owner's grants), revocable, and may expire. The handlers parse
//! and answer; `auth::identity` does the work and keeps the audit log.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::require_admin;
use crate::app::AppState;
use crate::auth::identity::{self, AuditEntry, TokenRow, UserFlags, UserRecord};
use crate::auth::{Principal, Role, Secret};
use crate::error::{ApiError, ErrorBody};

/// Longest lifetime of an API token, in days (ten years).
const MAX_TOKEN_DAYS: u32 = 3650;
/// A store grant.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Grant {
    pub store: String,
    pub role: Role,
}

/// A user as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    /// Cannot log in; sessions and API tokens do not work.
    pub disabled: bool,
    pub grants: Vec<Grant>,
}

/// Body of `PATCH /admin/users/{id}`: the flags to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// Global admin: manages users, tokens and stores.
    #[serde(default)]
    pub is_admin: Option<bool>,
    /// Disabling ends the user's sessions and stops their API tokens.
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// Query of `GET /admin/audit`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries older than this id (the previous page's last id).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// At most this many entries, 1-500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Body of `POST /admin/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")]
    pub username: String,
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 1000)]
    pub password: Secret,
    #[serde(default)]
    pub is_admin: bool,
}

/// Body of `PUT /admin/users/{id}/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 1000)]
    pub password: Secret,
}

/// Body of `PUT /admin/users/{id}/grants/{store}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    pub role: Role,
}

/// Body of `POST /admin/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[schema(min_length = 1, max_length = 100, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub name: String,
    pub role: Role,
    /// Store slugs the token may use.
    #[schema(min_items = 1, max_items = 100)]
    pub stores: Vec<String>,
    /// Days until it stops working (at most 3650; 0: already expired); never
    /// when absent.
    #[serde(default)]
    #[schema(maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

/// A created token: the only time the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: i64,
    pub token: String,
    pub name: String,
}

fn store_id(state: &AppState, slug: &str) -> Result<i64, ApiError> {
    Ok(state.registry.meta(slug)?.id)
}

/// The store a principal may manage grants of: any for a global admin, else
/// one where it holds the admin role (`not_found` for a store it has no
/// grant on, `forbidden` for a lower role).
fn grantable_store(state: &AppState, who: &Principal, slug: &str) -> Result<i64, ApiError> {
    let meta = state.registry.meta(slug)?;
    if !who.is_admin {
        who.require(meta.id, slug, Role::Admin)?;
    }
    Ok(meta.id)
}

/// A user record as `who` may see it: a store admin sees only the grants
/// on the stores they administer.
fn user_view(state: &AppState, who: &Principal, user: UserRecord) -> UserView {
    let slugs: std::collections::HashMap<i64, String> =
        state.registry.stores().into_iter().map(|m| (m.id, m.info.slug.clone())).collect();
    let visible = |store: &i64| who.is_admin || who.role(*store) == Some(Role::Admin);
    UserView {
        id: user.id,
        username: user.username,
        is_admin: user.is_admin,
        disabled: user.disabled,
        grants: user
            .grants
            .into_iter()
            .filter(|(store, _)| visible(store))
            .filter_map(|(store, role)| Some(Grant { store: slugs.get(&store)?.clone(), role }))
            .collect(),
    }
}

/// Every user with their grants (global admins); a store admin gets the
/// same list with the grants on the stores they administer only.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin",
    responses((status = 200, body = Vec<UserView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_users(state: web::Data<AppState>, who: Principal) -> Result<web::Json<Vec<UserView>>, ApiError> {
    if !who.is_admin && !who.grants.values().any(|r| *r == Role::Admin) {
        return Err(ApiError::Forbidden("this needs an administrator".into()));
    }
    let users = identity::users(&state.pool).await?;
    Ok(web::Json(users.into_iter().map(|u| user_view(&state, &who, u)).collect()))
}

/// Creates a user (no grants yet).
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = NewUser,
    responses((status = 201, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody, description = "too many password hashes in flight; see Retry-After")))]
pub async fn create_user(
    state: web::Data<AppState>,
    who: Principal,
    body: web::Json<NewUser>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&who)?;
    let NewUser { username, password, is_admin } = body.into_inner();
    let id = identity::create_user(&state.pool, &state.password_gate, &who.name, username.clone(), password, is_admin)
        .await?;
    log::info!(by = who.name.as_str(), user = username.as_str(); "user created");
    Ok(HttpResponse::Created().json(UserView { id, username, is_admin, disabled: false, grants: vec![] }))
}

/// Deletes a user; their sessions, grants and tokens end with them. The
/// last enabled global admin is refused (`last_admin`).
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}", tag = "admin", params(("id" = i64, Path, description = "user id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`conflict`: yourself; `last_admin`")))]
pub async fn delete_user(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&who)?;
    let id = path.into_inner();
    if id == who.user_id {
        return Err(ApiError::Conflict("you cannot delete yourself".into()));
    }
    if !identity::delete_user(&state.pool, &who.name, id).await? {
        return Err(ApiError::NotFound(format!("user {id}")));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Sets a user's password (checked like a new user's) and ends all their
/// login sessions, open WebSockets included; their API tokens stay.
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/password", tag = "admin", request_body = NewPassword,
    params(("id" = i64, Path, description = "user id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody, description = "too many password hashes in flight; see Retry-After")))]
pub async fn set_password(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<i64>,
    body: web::Json<NewPassword>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&who)?;
    let id = path.into_inner();
    let password = body.into_inner().password;
    if !identity::reset_password(&state.pool, &state.password_gate, &who.name, id, password).await? {
        return Err(ApiError::NotFound(format!("user {id}")));
    }
    log::info!(by = who.name.as_str(), user_id = id; "password reset, sessions ended");
    Ok(HttpResponse::NoContent().finish())
}

/// Grants a role on a store (replacing any earlier grant there): global
/// admins on any store, store admins on the stores they administer.
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/grants/{store}", tag = "admin", request_body = GrantBody,
    params(("id" = i64, Path, description = "user id"), ("store" = String, Path, description = "store slug")),
    responses((status = 200, body = Grant), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_grant(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(i64, String)>,
    body: web::Json<GrantBody>,
) -> Result<web::Json<Grant>, ApiError> {
    let (user_id, slug) = path.into_inner();
    let store = grantable_store(&state, &who, &slug)?;
    let role = body.role;
    if !identity::put_grant(&state.pool, &who.name, user_id, store, &slug, role).await? {
        return Err(ApiError::NotFound(format!("user {user_id}")));
    }
    Ok(web::Json(Grant { store: slug, role }))
}

/// Removes a grant: global admins on any store, store admins on the stores
/// they administer.
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}/grants/{store}", tag = "admin",
    params(("id" = i64, Path, description = "user id"), ("store" = String, Path, description = "store slug")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_grant(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (user_id, slug) = path.into_inner();
    let store = grantable_store(&state, &who, &slug)?;
    if !identity::delete_grant(&state.pool, &who.name, user_id, store, &slug).await? {
        return Err(ApiError::NotFound(format!("grant of user {user_id} on {slug}")));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Every API token (never the secrets).
#[utoipa::path(get, path = "/api/v1/admin/tokens", tag = "admin",
    responses((status = 200, body = Vec<TokenRow>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(state: web::Data<AppState>, who: Principal) -> Result<web::Json<Vec<TokenRow>>, ApiError> {
    require_admin(&who)?;
    Ok(web::Json(identity::tokens(&state.pool).await?))
}

/// Creates an API token owned by the caller; the answer is the only time
/// its secret is shown.
#[utoipa::path(post, path = "/api/v1/admin/tokens", tag = "admin", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_token(
    state: web::Data<AppState>,
    who: Principal,
    body: web::Json<NewToken>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&who)?;
    let NewToken { name, role, stores, expires_in_days } = body.into_inner();
    if name.trim().is_empty() || name.len() > 100 || !crate::model::is_printable_line(&name) {
        return Err(ApiError::invalid("name", "a token name has 1-100 printable characters".into()));
    }
    if stores.is_empty() || stores.len() > 100 {
        return Err(ApiError::invalid("stores", "a token is scoped to 1-100 stores".into()));
    }
    let ids = stores.iter().map(|s| Ok((store_id(&state, s)?, s.clone()))).collect::<Result<Vec<_>, ApiError>>()?;
    if expires_in_days.is_some_and(|d| d > MAX_TOKEN_DAYS) {
        return Err(ApiError::invalid("expires_in_days", format!("a token lasts at most {MAX_TOKEN_DAYS} days")));
    }
    let issued =
        identity::create_token(&state.pool, &who.name, who.user_id, name.clone(), role, &ids, expires_in_days).await?;
    log::info!(by = who.name.as_str(), token = name.as_str(); "api token created");
    Ok(HttpResponse::Created().json(CreatedToken { id: issued.id, token: issued.token.expose().to_owned(), name }))
}

/// Revokes a token; it stops working at once, open WebSockets included.
#[utoipa::path(delete, path = "/api/v1/admin/tokens/{id}", tag = "admin", params(("id" = i64, Path, description = "token id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&who)?;
    let id = path.into_inner();
    if !identity::revoke_token(&state.pool, &who.name, id).await? {
        return Err(ApiError::NotFound(format!("token {id}")));
    }
    log::info!(by = who.name.as_str(), token_id = id; "api token revoked");
    Ok(HttpResponse::NoContent().finish())
}

/// Makes a user a global admin or not, disables or enables them. Disabling
/// ends their sessions (open WebSockets close within the revalidate
/// interval) and stops their API tokens. Demoting or disabling the last
/// enabled global admin is refused (`last_admin`).
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin", request_body = UserChange,
    params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`last_admin`"), (status = 422, body = ErrorBody)))]
pub async fn update_user(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<i64>,
    body: web::Json<UserChange>,
) -> Result<web::Json<UserView>, ApiError> {
    require_admin(&who)?;
    let id = path.into_inner();
    let UserChange { is_admin, disabled } = body.into_inner();
    if is_admin.is_none() && disabled.is_none() {
        return Err(ApiError::invalid("body", "the change sets no field".into()));
    }
    let user = identity::update_user(&state.pool, &who.name, id, UserFlags { is_admin, disabled })
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("user {id}")))?;
    log::info!(by = who.name.as_str(), user_id = id; "user changed");
    Ok(web::Json(user_view(&state, &who, user)))
}

/// The audit log of admin changes (users, grants, tokens, stores), newest
/// first.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn audit(
    state: web::Data<AppState>,
    who: Principal,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<Vec<AuditEntry>>, ApiError> {
    require_admin(&who)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be 1-500".into()));
    }
    if query.before.is_some_and(|b| b < 1) {
        return Err(ApiError::invalid("before", "before must be an entry id".into()));
    }
    Ok(web::Json(identity::audit_log(&state.pool, query.before, limit).await?))
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/users", web::get().to(list_users))
        .route("/admin/users", web::post().to(create_user))
        .route("/admin/users/{id}", web::delete().to(delete_user))
        .route("/admin/users/{id}", web::patch().to(update_user))
        .route("/admin/audit", web::get().to(audit))
        .route("/admin/users/{id}/password", web::put().to(set_password))
        .route("/admin/users/{id}/grants/{store}", web::put().to(put_grant))
        .route("/admin/users/{id}/grants/{store}", web::delete().to(delete_grant))
        .route("/admin/tokens", web::get().to(list_tokens))
        .route("/admin/tokens", web::post().to(create_token))
        .route("/admin/tokens/{id}", web::delete().to(revoke_token));
}
