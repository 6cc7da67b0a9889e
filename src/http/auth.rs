//! `POST /auth/login`, `POST /auth/logout`, `GET /me`.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::extract::SESSION_COOKIE;
use crate::auth::identity::{self, SESSION_DAYS};
use crate::auth::{GrantedStore, Principal, Secret};
use crate::error::{ApiError, ErrorBody};

/// Login credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    #[schema(value_type = String, format = Password)]
    pub password: Secret,
}

/// Who a principal is.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserInfo {
    pub username: String,
    pub is_admin: bool,
}

/// `GET /me`: the principal and its stores.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: UserInfo,
    pub stores: Vec<GrantedStore>,
}

/// `POST /auth/login`: a bearer token (also set as the session cookie).
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub user: UserInfo,
    pub stores: Vec<GrantedStore>,
}

fn me_of(state: &AppState, who: &Principal) -> Me {
    Me {
        user: UserInfo { username: who.username.clone(), is_admin: who.is_admin },
        stores: state.registry.granted(who),
    }
}

/// Logs in with a username and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody, description = "too many attempts; see Retry-After"), (status = 503, body = ErrorBody, description = "too many password checks in flight; see Retry-After")))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { username, password } = body.into_inner();
    if username.is_empty() || username.len() > 100 || password.expose().len() > 1000 {
        return Err(ApiError::BadCredentials);
    }
    let client = state.authenticator.trusted_proxies.client_ip(&req);
    state.rate_limits.login(client, &username).inspect_err(|_| {
        log::warn!(user = username.as_str(); "login rate limited");
    })?;
    let logged_in =
        identity::login(&state.pool, &state.password_gate, username.clone(), password).await.inspect_err(|e| {
            if matches!(e, ApiError::BadCredentials) {
                log::warn!("login refused");
                state.rate_limits.login_failed(client, &username);
            }
        })?;
    log::info!(user = logged_in.username.as_str(); "login");
    let token = logged_in.token.expose().to_owned();
    let who = crate::auth::extract::principal_for(&state.pool, token.clone()).await?;
    let me = me_of(&state, &who);
    let cookie = Cookie::build(SESSION_COOKIE, token.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        // Secure whenever browsers come over https, so the cookie never
        // leaks over a plain-http request to the same host.
        .secure(state.config.serves_https())
        .max_age(time::Duration::days(SESSION_DAYS))
        .finish();
    Ok(HttpResponse::Ok().cookie(cookie).json(LoginResponse { token, user: me.user, stores: me.stores }))
}

/// Ends the login session of the request's token or cookie. An API token
/// cannot log out (400): it stays valid until an admin revokes it.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 400, body = ErrorBody, description = "bad_request: the credential is an API token, which only revocation ends"), (status = 401, body = ErrorBody)))]
pub async fn logout(state: web::Data<AppState>, who: Principal) -> Result<HttpResponse, ApiError> {
    identity::logout(&state.pool, &who).await?;
    let mut gone = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.serves_https())
        .finish();
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

/// Who the caller is and which stores it may use.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(state: web::Data<AppState>, who: Principal) -> web::Json<Me> {
    web::Json(me_of(&state, &who))
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/login", web::post().to(login))
        .route("/auth/logout", web::post().to(logout))
        .route("/me", web::get().to(me));
}
