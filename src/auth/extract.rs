//! The `Principal` extractor: a session cookie (browsers) or an
//! `Authorization: Bearer` token (scripts and integrations) becomes the
//! principal with its grants. Every handler that takes a `Principal` is
//! authenticated; the store grant is checked by `http::open_store`.

use std::collections::HashMap;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::{token_hash, Principal, Role};
use crate::db::{self, queries::auth};
use crate::error::ApiError;
use crate::http::AppState;

/// Name of the browser session cookie.
pub const SESSION_COOKIE: &str = "storesync_session";

/// The token a request carries: Bearer header first, then the cookie.
pub fn request_token(req: &HttpRequest) -> Option<String> {
    let bearer = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    bearer.or_else(|| req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()))
}

/// Resolves a token to its principal.
pub async fn principal_for(state: &AppState, token: String) -> Result<Principal, ApiError> {
    if token.is_empty() || token.len() > 200 {
        return Err(ApiError::Unauthenticated);
    }
    let hash = token_hash(&token);
    db::blocking(&state.pool, move |conn| {
        let user = auth::session_user(conn, &hash)?.ok_or(ApiError::Unauthenticated)?;
        let grants: HashMap<_, _> = auth::grants(conn, user.id)?
            .into_iter()
            .filter_map(|(store, role)| Some((store, Role::parse(&role)?)))
            .collect();
        Ok(Principal {
            user_id: user.id,
            name: format!("user:{}", user.username),
            username: user.username,
            is_admin: user.is_admin,
            grants,
        })
    })
    .await
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = request_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("app state missing".into()))?;
            principal_for(&state, token.ok_or(ApiError::Unauthenticated)?).await
        })
    }
}
