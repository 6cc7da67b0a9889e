//! The `Principal` extractor: a session cookie (browsers), an
//! `Authorization: Bearer` session token (scripts) or an API token
//! (integrations) becomes the principal with its grants. Every handler that
//! takes a `Principal` is authenticated; the store grant is checked by
//! `http::open_store`.
//!
//! CSRF: a write (POST, PUT, PATCH, DELETE) authenticated by the cookie must
//! come with an `Origin` (or, lacking one, a `Referer`) of this server or an
//! allowed origin; this server is the `Host` the client asked for, a
//! forwarded host counts only from `--trusted-proxies` (`peer`). Bearer
//! requests carry no ambient credential and need no check. Guarded by
//! `tests/security.rs`.

use std::collections::HashMap;

use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::peer::TrustedProxies;
use super::{token_hash, Principal, PrincipalKind, Role};
use crate::db::{self, queries::auth, DbPool};
use crate::error::ApiError;

/// What resolving a request's principal needs: the database, the origins
/// allowed besides this server's own (CSRF) and the proxies whose forwarded
/// host is believed. Registered as app data.
pub struct Authenticator {
    pub pool: DbPool,
    pub allowed_origins: Vec<String>,
    pub trusted_proxies: TrustedProxies,
}

impl Authenticator {
    /// Whether the request's `Origin` (or `Referer`) is this server or an
    /// allowed origin. "This server" is the `Host` the client asked for,
    /// never a forwarded host unless a trusted proxy sent it.
    pub fn origin_allowed(&self, req: &HttpRequest) -> bool {
        let origin = match req.headers().get(header::ORIGIN) {
            Some(o) => o.to_str().ok().map(str::to_owned),
            None => req
                .headers()
                .get(header::REFERER)
                .and_then(|r| r.to_str().ok())
                .map(|r| r.splitn(4, '/').take(3).collect::<Vec<_>>().join("/")),
        };
        let Some(origin) = origin else { return false };
        let own = self.trusted_proxies.host(req).map(|host| [format!("http://{host}"), format!("https://{host}")]);
        own.iter().flatten().chain(&self.allowed_origins).any(|o| o.eq_ignore_ascii_case(&origin))
    }
}

/// Name of the browser session cookie.
pub const SESSION_COOKIE: &str = "storesync_session";

/// Where a request's credential came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Bearer(String),
    Cookie(String),
}

impl Credential {
    /// The token itself.
    pub fn token(&self) -> &str {
        match self {
            Self::Bearer(t) | Self::Cookie(t) => t,
        }
    }
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    Some(value.strip_prefix("Bearer ")?.trim())
}

/// The credential a request carries: Bearer header first, then the cookie.
pub fn credential(req: &HttpRequest) -> Option<Credential> {
    let bearer = bearer(req).map(|t| Credential::Bearer(t.to_owned()));
    bearer.or_else(|| req.cookie(SESSION_COOKIE).map(|c| Credential::Cookie(c.value().to_owned())))
}

fn grants_of(conn: &mut db::Conn, user_id: i64) -> Result<HashMap<i64, Role>, ApiError> {
    Ok(auth::grants(conn, user_id)?
        .into_iter()
        .filter_map(|(store, role)| Some((store, Role::parse(&role)?)))
        .collect())
}

/// Resolves a token (a login session or an API token) to its principal.
pub async fn principal_for(pool: &DbPool, token: String) -> Result<Principal, ApiError> {
    if token.is_empty() || token.len() > 200 {
        return Err(ApiError::Unauthenticated);
    }
    principal_by_hash(pool, token_hash(&token)).await
}

/// Resolves a stored credential hash to its principal (re-checks of open
/// WebSockets).
pub async fn principal_by_hash(pool: &DbPool, hash: String) -> Result<Principal, ApiError> {
    db::blocking(pool, move |conn| {
        if let Some(user) = auth::session_user(conn, &hash)? {
            let grants = grants_of(conn, user.id)?;
            return Ok(Principal {
                user_id: user.id,
                name: format!("user:{}", user.username),
                username: user.username,
                is_admin: user.is_admin,
                grants,
                token_hash: hash,
                kind: PrincipalKind::Session,
            });
        }
        let token = auth::live_token(conn, &hash)?.ok_or(ApiError::Unauthenticated)?;
        // A disabled owner's tokens stop working with them.
        let user = auth::user(conn, token.user_id)?.filter(|u| !u.disabled).ok_or(ApiError::Unauthenticated)?;
        let role = Role::parse(&token.role).ok_or(ApiError::Unauthenticated)?;
        // A token never grants more than its owner holds now.
        let owner = grants_of(conn, user.id)?;
        let grants = token
            .store_ids
            .split(',')
            .filter_map(|s| s.trim().parse::<i64>().ok())
            .filter_map(|store| Some((store, role.min(*owner.get(&store)?))))
            .collect();
        Ok(Principal {
            user_id: user.id,
            name: format!("token:{}", token.name),
            username: user.username,
            is_admin: false,
            grants,
            token_hash: hash,
            kind: PrincipalKind::ApiToken,
        })
    })
    .await
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let authenticator = req.app_data::<web::Data<Authenticator>>().cloned();
        let credential = credential(req);
        let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let cross_site = matches!(credential, Some(Credential::Cookie(_)))
            && unsafe_method
            && !authenticator.as_ref().is_some_and(|a| a.origin_allowed(req));
        Box::pin(async move {
            let authenticator = authenticator.ok_or_else(|| ApiError::Internal("authenticator missing".into()))?;
            if cross_site {
                log::warn!("cookie-authenticated write from a foreign origin refused");
                return Err(ApiError::Forbidden("cross-site request refused (CSRF)".into()));
            }
            let credential = credential.ok_or(ApiError::Unauthenticated)?;
            principal_for(&authenticator.pool, credential.token().to_owned()).await
        })
    }
}
