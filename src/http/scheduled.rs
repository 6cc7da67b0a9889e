//! `GET|POST /stores/{store}/schedule`, `GET|PATCH|DELETE
//! /stores/{store}/schedule/{id}`: a store's scheduled changes
//! (`model::schedule`). Everyone who may read the store lists them (their
//! `schedule.updated` events reach every subscriber anyway); editors
//! schedule, edit and cancel them, through the store actor like any write.
//! A change is checked when scheduled as the immediate write would be (the
//! product exists, `if_version` is current, a bulk change's products can
//! take it), and again when due.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ask, committed, open_store, write, OpenStore};
use crate::app::AppState;
use crate::auth::{Principal, PrincipalKind, Role};
use crate::db::{self, queries};
use crate::error::{ApiError, ErrorBody};
use crate::model::change::{Change, Committed};
use crate::model::schedule::{check_due, NewSchedule, ScheduleEdit, ScheduleStatus, ScheduledChange, ScheduledOp};
use crate::store::messages::{GetProduct, PlanBulk};

/// Most scheduled changes a list answers.
pub const MAX_LISTED: i64 = 200;

/// A scheduled change's write answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleWritten {
    /// The store's seq after the write.
    pub seq: i64,
    pub scheduled: ScheduledChange,
}

/// Which scheduled changes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ScheduleQuery {
    /// Only those of this status (default: all).
    #[serde(default)]
    pub status: Option<ScheduleStatus>,
}

/// The store's scheduled changes, at most 200: pending ones soonest first,
/// the others (or all, without `status`) latest first.
#[utoipa::path(get, path = "/api/v1/stores/{store}/schedule", tag = "products",
    params(("store" = String, Path, description = "store slug"), ScheduleQuery),
    responses((status = 200, body = [ScheduledChange]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    query: web::Query<ScheduleQuery>,
) -> Result<web::Json<Vec<ScheduledChange>>, ApiError> {
    let store = open_store(&state, &who, &path, Role::Viewer)?;
    let (store_id, status) = (store.meta.id, query.status);
    let listed = db::blocking(&state.pool, move |conn| queries::scheduled::list(conn, store_id, status, MAX_LISTED));
    Ok(web::Json(listed.await?))
}

/// One scheduled change.
#[utoipa::path(get, path = "/api/v1/stores/{store}/schedule/{id}", tag = "products",
    params(("store" = String, Path, description = "store slug"), ("id" = i64, Path, description = "scheduled change id")),
    responses((status = 200, body = ScheduledChange), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(String, i64)>,
) -> Result<web::Json<ScheduledChange>, ApiError> {
    let (slug, id) = path.into_inner();
    let store = open_store(&state, &who, &slug, Role::Viewer)?;
    let store_id = store.meta.id;
    let row = db::blocking(&state.pool, move |conn| queries::scheduled::get(conn, store_id, id)).await?;
    Ok(web::Json(row.into_scheduled()?))
}

/// Schedules a change (editor): a product's fields, the dashboard, or a
/// bulk change by ids, applied once at `due_at` (in the future, at most a
/// year ahead) in its author's name; the author must still be an editor of
/// the store then.
#[utoipa::path(post, path = "/api/v1/stores/{store}/schedule", tag = "products", request_body = NewSchedule,
    params(("store" = String, Path, description = "store slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 201, body = ScheduleWritten), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "the store, or the product to change"), (status = 409, body = ErrorBody),
        (status = 412, body = ErrorBody, description = "`if_version` is not the product's version; details.current is the product"),
        (status = 422, body = ErrorBody, description = "`due_at` past or more than a year ahead, a change out of range, products a bulk change cannot apply to, or the store's 1000 pending changes reached")))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<NewSchedule>,
) -> Result<HttpResponse, ApiError> {
    let store = open_store(&state, &who, &path, Role::Editor)?;
    let NewSchedule { due_at, change } = body.into_inner();
    let due_at = check_due(due_at, Utc::now())?;
    let op = checked_op(&store, change).await?;
    let token_id = token_id(&state, &who).await?;
    let change = Change::Schedule { due_at, scheduled: op, user_id: who.user_id, token_id };
    let done: Committed<ScheduledChange> = write(&store, &req, &who, change).await?;
    Ok(committed(StatusCode::CREATED, done.seq, ScheduleWritten { seq: done.seq, scheduled: done.answer }))
}

/// Changes a pending scheduled change's time or change (editor), checked
/// as when scheduled; `409 conflict` once it is due, applied, failed or
/// cancelled.
#[utoipa::path(patch, path = "/api/v1/stores/{store}/schedule/{id}", tag = "products", request_body = ScheduleEdit,
    params(("store" = String, Path, description = "store slug"), ("id" = i64, Path, description = "scheduled change id"),
        ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 200, body = ScheduleWritten), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "no longer pending, or due"), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    body: web::Json<ScheduleEdit>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let store = open_store(&state, &who, &slug, Role::Editor)?;
    let ScheduleEdit { due_at, change } = body.into_inner();
    if due_at.is_none() && change.is_none() {
        return Err(ApiError::invalid("body", "give due_at, change or both".into()));
    }
    let due_at = due_at.map(|due_at| check_due(due_at, Utc::now())).transpose()?;
    let change = match change {
        Some(op) => Some(checked_op(&store, op).await?),
        None => None,
    };
    let change = Change::EditSchedule { id, edit: ScheduleEdit { due_at, change } };
    let done: Committed<ScheduledChange> = write(&store, &req, &who, change).await?;
    Ok(committed(StatusCode::OK, done.seq, ScheduleWritten { seq: done.seq, scheduled: done.answer }))
}

/// Cancels a pending scheduled change (editor); `409 conflict` once it is
/// due, applied, failed or cancelled.
#[utoipa::path(delete, path = "/api/v1/stores/{store}/schedule/{id}", tag = "products",
    params(("store" = String, Path, description = "store slug"), ("id" = i64, Path, description = "scheduled change id"),
        ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 200, body = ScheduleWritten), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "no longer pending, or due")))]
pub async fn cancel(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let store = open_store(&state, &who, &slug, Role::Editor)?;
    let done: Committed<ScheduledChange> = write(&store, &req, &who, Change::CancelSchedule { id }).await?;
    Ok(committed(StatusCode::OK, done.seq, ScheduleWritten { seq: done.seq, scheduled: done.answer }))
}

/// Checks a change against the store now, as its immediate write would be
/// checked; a bulk change comes back with its products resolved.
async fn checked_op(store: &OpenStore<'_>, op: ScheduledOp) -> Result<ScheduledOp, ApiError> {
    let selection = op.validate()?;
    match (op, selection) {
        (ScheduledOp::Bulk { change, .. }, Some(selection)) => {
            let (ids, _) = ask(&store.actor, PlanBulk { selection, op: change.clone() }).await?;
            Ok(ScheduledOp::Bulk { ids, change })
        }
        (op @ ScheduledOp::Product { id, if_version, .. }, _) => {
            let current = ask(&store.actor, GetProduct(id)).await?;
            match if_version {
                Some(expected) if expected != current.version => {
                    Err(ApiError::Stale { expected, current: Box::new(current) })
                }
                _ => Ok(op),
            }
        }
        (op, _) => Ok(op),
    }
}

/// The id of the API token a principal writes with, re-checked when its
/// changes are due; `None` for a login session.
async fn token_id(state: &AppState, who: &Principal) -> Result<Option<i64>, ApiError> {
    if who.kind != PrincipalKind::ApiToken {
        return Ok(None);
    }
    let hash = who.token_hash.clone();
    let token = db::blocking(&state.pool, move |conn| Ok(queries::auth::live_token(conn, &hash)?)).await?;
    token.map(|t| Some(t.id)).ok_or(ApiError::Unauthenticated)
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stores/{store}/schedule", web::get().to(list))
        .route("/stores/{store}/schedule", web::post().to(create))
        .route("/stores/{store}/schedule/{id}", web::get().to(get))
        .route("/stores/{store}/schedule/{id}", web::patch().to(edit))
        .route("/stores/{store}/schedule/{id}", web::delete().to(cancel));
}
