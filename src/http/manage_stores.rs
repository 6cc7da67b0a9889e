//! Managing stores (global admins only): `GET|POST /admin/stores`,
//! `PATCH|DELETE /admin/stores/{store}`, `POST
//! /admin/stores/{store}/archive` and `…/restore`. Creating and deleting a
//! store change the registry's catalog (`StoreRegistry::create`,
//! `delete`); every other change is a write of the store's own actor, a
//! `store.updated`, `store.archived` or `store.restored` event with a seq,
//! fanned out to the store's subscribers. Guarded by
//! `tests/manage_stores.rs`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::{committed, require_admin, write, OpenStore};
use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ErrorBody};
use crate::model::change::Change;
use crate::model::store::{NewStore, StorePatch};
use crate::model::StoreInfo;

/// A store change's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreWritten {
    /// The store's seq after the change.
    pub seq: i64,
    pub store: StoreInfo,
}

/// A store as global admins list it: with its id, which API tokens'
/// `store_ids` name.
#[derive(Debug, Serialize, ToSchema)]
pub struct ManagedStore {
    pub id: i64,
    #[serde(flatten)]
    pub store: StoreInfo,
}

/// A store a global admin manages, grant or not.
fn managed<'a>(state: &'a AppState, who: &Principal, slug: &str) -> Result<OpenStore<'a>, ApiError> {
    require_admin(who)?;
    let meta = state.registry.meta(slug)?;
    let actor = state.registry.actor(&meta);
    Ok(OpenStore { state, meta, actor, role: Role::Admin })
}

/// Commits a change of the store itself and updates the catalog.
async fn change_store(
    state: &AppState,
    req: &HttpRequest,
    who: &Principal,
    slug: &str,
    change: Change,
) -> Result<HttpResponse, ApiError> {
    let store = managed(state, who, slug)?;
    let done = write::<StoreInfo>(&store, req, who, change).await?;
    state.registry.learn(store.meta.id, done.answer.clone()).map_err(ApiError::Internal)?;
    log::info!(store = slug, by = who.name.as_str(), seq = done.seq; "store changed");
    Ok(committed(StatusCode::OK, done.seq, StoreWritten { seq: done.seq, store: done.answer }))
}

/// Every store, archived ones included.
#[utoipa::path(get, path = "/api/v1/admin/stores", tag = "admin",
    responses((status = 200, body = Vec<ManagedStore>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(state: web::Data<AppState>, who: Principal) -> Result<web::Json<Vec<ManagedStore>>, ApiError> {
    require_admin(&who)?;
    let stores = state.registry.stores().iter().map(|m| ManagedStore { id: m.id, store: m.info.clone() }).collect();
    Ok(web::Json(stores))
}

/// Creates a store; its creator becomes its admin. Connected clients
/// that may use it get a `stores` frame.
#[utoipa::path(post, path = "/api/v1/admin/stores", tag = "admin", request_body = NewStore,
    responses((status = 201, body = StoreInfo), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`conflict`: the slug is taken"), (status = 422, body = ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: web::Json<NewStore>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&who)?;
    body.validate()?;
    let info = state.registry.create(&who.name, body.into_inner(), Some(who.user_id)).await?;
    log::info!(store = info.slug.as_str(), by = who.name.as_str(); "store created");
    Ok(HttpResponse::Created().json(info))
}

/// Changes a store's name, visibility, time zone (every daily bucket moves
/// to the new zone's local days) or currency (refused once it has products
/// or sales).
#[utoipa::path(patch, path = "/api/v1/admin/stores/{store}", tag = "admin", request_body = StorePatch,
    params(("store" = String, Path, description = "store slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 200, body = StoreWritten), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`store_archived`, `currency_locked`"), (status = 422, body = ErrorBody)))]
pub async fn patch(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<StorePatch>,
) -> Result<HttpResponse, ApiError> {
    body.validate()?;
    change_store(&state, &req, &who, &path, Change::UpdateStore(body.into_inner())).await
}

/// Archives a store: read-only, listed only to its admins, and every
/// subscription ends with `resync store_archived`.
#[utoipa::path(post, path = "/api/v1/admin/stores/{store}/archive", tag = "admin",
    params(("store" = String, Path, description = "store slug")),
    responses((status = 200, body = StoreWritten), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`store_archived`: already archived")))]
pub async fn archive(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    change_store(&state, &req, &who, &path, Change::ArchiveStore).await
}

/// Restores an archived store.
#[utoipa::path(post, path = "/api/v1/admin/stores/{store}/restore", tag = "admin",
    params(("store" = String, Path, description = "store slug")),
    responses((status = 200, body = StoreWritten), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`store_not_archived`")))]
pub async fn restore(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    change_store(&state, &req, &who, &path, Change::RestoreStore).await
}

/// Deletes an archived store with its products, sales, history and grants
/// (export it first: `GET /stores/{store}/products/export`); its images are
/// collected once no other product uses them.
#[utoipa::path(delete, path = "/api/v1/admin/stores/{store}", tag = "admin",
    params(("store" = String, Path, description = "store slug")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`store_not_archived`: archive it first")))]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&who)?;
    state.registry.delete(&who.name, &path).await?;
    log::info!(store = path.as_str(), by = who.name.as_str(); "store deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/stores", web::get().to(list))
        .route("/admin/stores", web::post().to(create))
        .route("/admin/stores/{store}", web::patch().to(patch))
        .route("/admin/stores/{store}", web::delete().to(delete))
        .route("/admin/stores/{store}/archive", web::post().to(archive))
        .route("/admin/stores/{store}/restore", web::post().to(restore));
}
