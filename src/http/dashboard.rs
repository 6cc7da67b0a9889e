//! `GET|PATCH /stores/{store}/dashboard`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ask, committed, open_store, write};
use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ErrorBody};
use crate::model::change::Change;
use crate::model::{Dashboard, DashboardPatch};
use crate::store::messages::GetDashboard;

/// A dashboard write's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardWritten {
    pub seq: i64,
    pub dashboard: Dashboard,
}

/// The store's headline figures now.
#[utoipa::path(get, path = "/api/v1/stores/{store}/dashboard", tag = "dashboard", params(("store" = String, Path, description = "store slug")),
    responses((status = 200, body = Dashboard), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> Result<web::Json<Dashboard>, ApiError> {
    let store = open_store(&state, &who, &path, Role::Viewer)?;
    Ok(web::Json(ask(&store.actor, GetDashboard).await?))
}

/// Sets the hand-set figures (editor); sales figures are computed.
#[utoipa::path(patch, path = "/api/v1/stores/{store}/dashboard", tag = "dashboard", request_body = DashboardPatch,
    params(("store" = String, Path, description = "store slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 200, body = DashboardWritten), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<DashboardPatch>,
) -> Result<HttpResponse, ApiError> {
    let store = open_store(&state, &who, &path, Role::Editor)?;
    body.validate()?;
    let done = write(&store, &req, &who, Change::PatchDashboard(body.into_inner())).await?;
    Ok(committed(StatusCode::OK, done.seq, DashboardWritten { seq: done.seq, dashboard: done.answer }))
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stores/{store}/dashboard", web::get().to(get))
        .route("/stores/{store}/dashboard", web::patch().to(patch));
}
