//! `GET /stores/{store}/views`, `PUT|DELETE /stores/{store}/views/{name}`:
//! a store's saved views. Everyone who may read the store lists them;
//! editors save and delete them, through the store actor like any write
//! (`view.saved`, `view.deleted` reach the subscribers). Publishing one to
//! following subscribers is the WebSocket's `publish_view` with `name`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ask, committed, open_store, write};
use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ErrorBody};
use crate::model::change::{Change, Committed};
use crate::model::saved_view::{check_view_name, SavedView};
use crate::model::View;
use crate::store::messages::GetSavedViews;

/// A save's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ViewSaved {
    /// The store's seq after the write.
    pub seq: i64,
    pub saved: SavedView,
}

/// A delete's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ViewDeleted {
    pub seq: i64,
    pub name: String,
}

/// The store's saved views, by name.
#[utoipa::path(get, path = "/api/v1/stores/{store}/views", tag = "products",
    params(("store" = String, Path, description = "store slug")),
    responses((status = 200, body = [SavedView]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> Result<web::Json<Vec<SavedView>>, ApiError> {
    let store = open_store(&state, &who, &path, Role::Viewer)?;
    Ok(web::Json(ask(&store.actor, GetSavedViews).await?))
}

/// Saves a view under a name, replacing one of that name (editor).
#[utoipa::path(put, path = "/api/v1/stores/{store}/views/{name}", tag = "products", request_body = View,
    params(("store" = String, Path, description = "store slug"), ("name" = String, Path, description = "1-60 printable characters, without /"),
        ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 200, body = ViewSaved), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "a name or view out of range (`invalid_field`), or the store's 100 saved views reached (`limit_exceeded`)")))]
pub async fn save(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    view: web::Json<View>,
) -> Result<HttpResponse, ApiError> {
    let (slug, name) = path.into_inner();
    let store = open_store(&state, &who, &slug, Role::Editor)?;
    check_view_name(&name)?;
    view.validate()?;
    let done: Committed<SavedView> =
        write(&store, &req, &who, Change::SaveView { name, view: view.into_inner() }).await?;
    Ok(committed(StatusCode::OK, done.seq, ViewSaved { seq: done.seq, saved: done.answer }))
}

/// Deletes a saved view (editor).
#[utoipa::path(delete, path = "/api/v1/stores/{store}/views/{name}", tag = "products",
    params(("store" = String, Path, description = "store slug"), ("name" = String, Path, description = "the saved view's name"),
        ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 200, body = ViewDeleted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, name) = path.into_inner();
    let store = open_store(&state, &who, &slug, Role::Editor)?;
    let done: Committed<String> = write(&store, &req, &who, Change::DeleteView { name }).await?;
    Ok(committed(StatusCode::OK, done.seq, ViewDeleted { seq: done.seq, name: done.answer }))
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stores/{store}/views", web::get().to(list))
        .route("/stores/{store}/views/{name}", web::put().to(save))
        .route("/stores/{store}/views/{name}", web::delete().to(delete));
}
