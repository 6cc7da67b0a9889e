//! `/stores/{store}/feedback`: users send a rating and a comment about how
//! sync works for them, with their page's sync statistics; the store's
//! admins list them. Validation is `model::feedback`'s, storage
//! `db::queries::feedback`'s. Guarded by `tests/feedback.rs`.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::open_store;
use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::db::{self, queries::feedback};
use crate::error::{ApiError, ErrorBody};
use crate::model::feedback::{Feedback, NewFeedback};

/// Most reports one list answers.
const MAX_LIST: i64 = 200;

/// A stored report's id.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackReceipt {
    pub id: i64,
}

/// Query of the list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeedbackQuery {
    /// At most this many, newest first (1-200, default 50).
    #[serde(default = "default_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: i64,
}

fn default_limit() -> i64 {
    50
}

/// Sends feedback about sync (any role on the store). Counts against the
/// sender's write budget, like any write.
#[utoipa::path(post, path = "/api/v1/stores/{store}/feedback", tag = "feedback", request_body = NewFeedback,
    params(("store" = String, Path, description = "store slug")),
    responses((status = 201, body = FeedbackReceipt), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn send(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    body: web::Json<NewFeedback>,
) -> Result<HttpResponse, ApiError> {
    let store = open_store(&state, &who, &path, Role::Viewer)?;
    state.rate_limits.write(&who.name)?;
    body.validate()?;
    let (store_id, by, new) = (store.meta.id, who.name.clone(), body.into_inner());
    let rating = new.rating;
    let id = db::blocking(&state.pool, move |conn| feedback::insert(conn, store_id, &by, &new, Utc::now())).await?;
    log::info!(store = path.as_str(), by = who.name.as_str(), rating; "feedback received");
    Ok(HttpResponse::Created().json(FeedbackReceipt { id }))
}

/// The store's feedback, newest first (the store's admins).
#[utoipa::path(get, path = "/api/v1/stores/{store}/feedback", tag = "feedback",
    params(("store" = String, Path, description = "store slug"), FeedbackQuery),
    responses((status = 200, body = Vec<Feedback>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    query: web::Query<FeedbackQuery>,
) -> Result<web::Json<Vec<Feedback>>, ApiError> {
    let store = open_store(&state, &who, &path, Role::Admin)?;
    let limit = query.limit;
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("limit must be 1-{MAX_LIST}")));
    }
    let store_id = store.meta.id;
    Ok(web::Json(db::blocking(&state.pool, move |conn| feedback::latest(conn, store_id, limit)).await?))
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stores/{store}/feedback", web::post().to(send)).route("/stores/{store}/feedback", web::get().to(list));
}
