//! `GET /stores/{store}/kpis`, `PUT|DELETE /stores/{store}/kpis/{name}`: a
//! store's custom KPIs (`model::kpi`). Everyone who may read the store
//! lists them with their state now; store admins define and delete them,
//! through the store actor like any write (`kpi.saved`, `kpi.deleted`
//! reach every dashboard). A definition that does not parse is a 422
//! naming the field.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ask, committed, open_store, write};
use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::db;
use crate::error::{ApiError, ErrorBody};
use crate::model::change::{Change, Committed};
use crate::model::kpi::{Kpi, KpiDefinition, KpiRemoved, KpiRule};
use crate::model::saved_view::check_view_name;
use crate::store::kpis::GetKpiInputs;

/// A save's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiSaved {
    /// The store's seq after the write.
    pub seq: i64,
    pub name: String,
    pub definition: KpiDefinition,
}

/// A delete's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiDeleted {
    pub seq: i64,
    pub name: String,
}

/// The store's KPIs by name, each with its value and status now (viewer).
#[utoipa::path(get, path = "/api/v1/stores/{store}/kpis", tag = "dashboard",
    params(("store" = String, Path, description = "store slug")),
    responses((status = 200, body = [Kpi]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> Result<web::Json<Vec<Kpi>>, ApiError> {
    let store = open_store(&state, &who, &path, Role::Viewer)?;
    let store_id = store.meta.id;
    let rules = db::blocking(&state.pool, move |conn| db::queries::kpis::all(conn, store_id)).await?;
    if rules.is_empty() {
        return Ok(web::Json(Vec::new()));
    }
    let inputs = ask(&store.actor, GetKpiInputs).await?;
    Ok(web::Json(rules.iter().map(|r| r.evaluate(&inputs)).collect()))
}

/// Defines a KPI under a name, replacing one of that name (store admin).
#[utoipa::path(put, path = "/api/v1/stores/{store}/kpis/{name}", tag = "dashboard", request_body = KpiDefinition,
    params(("store" = String, Path, description = "store slug"), ("name" = String, Path, description = "1-60 printable characters, without /"),
        ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 200, body = KpiSaved), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "a definition that does not parse, naming the field (`invalid_field`: unknown metric or field, bad op, threshold or time), or the store's 20 KPIs reached (`limit_exceeded`)")))]
pub async fn save(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let (slug, name) = path.into_inner();
    let store = open_store(&state, &who, &slug, Role::Admin)?;
    check_view_name(&name)?;
    let definition = KpiDefinition::parse(&body)?;
    let done: Committed<KpiRule> = write(&store, &req, &who, Change::SaveKpi { name, definition }).await?;
    let rule = done.answer;
    Ok(committed(StatusCode::OK, done.seq, KpiSaved { seq: done.seq, name: rule.name, definition: rule.definition }))
}

/// Deletes a KPI (store admin).
#[utoipa::path(delete, path = "/api/v1/stores/{store}/kpis/{name}", tag = "dashboard",
    params(("store" = String, Path, description = "store slug"), ("name" = String, Path, description = "the KPI's name"),
        ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 200, body = KpiDeleted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, name) = path.into_inner();
    let store = open_store(&state, &who, &slug, Role::Admin)?;
    let done: Committed<KpiRemoved> = write(&store, &req, &who, Change::DeleteKpi { name }).await?;
    Ok(committed(StatusCode::OK, done.seq, KpiDeleted { seq: done.seq, name: done.answer.0 }))
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stores/{store}/kpis", web::get().to(list))
        .route("/stores/{store}/kpis/{name}", web::put().to(save))
        .route("/stores/{store}/kpis/{name}", web::delete().to(delete));
}
