//! `GET /stores`, `GET /stores/{store}`, `GET /stores/{store}/snapshot`.

use actix_web::web;

use super::{ask, open_store};
use crate::app::AppState;
use crate::auth::GrantedStore;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ErrorBody};
use crate::model::Snapshot;
use crate::model::View;
use crate::store::messages::GetSnapshot;

/// The stores the caller may use.
#[utoipa::path(get, path = "/api/v1/stores", tag = "stores",
    responses((status = 200, body = Vec<GrantedStore>), (status = 401, body = ErrorBody)))]
pub async fn list(state: web::Data<AppState>, who: Principal) -> web::Json<Vec<GrantedStore>> {
    web::Json(state.registry.granted(&who))
}

/// One store.
#[utoipa::path(get, path = "/api/v1/stores/{store}", tag = "stores", params(("store" = String, Path, description = "store slug")),
    responses((status = 200, body = GrantedStore), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> Result<web::Json<GrantedStore>, ApiError> {
    let store = open_store(&state, &who, &path, Role::Viewer)?;
    Ok(web::Json(GrantedStore { store: store.meta.info.clone(), role: store.role }))
}

/// Dashboard, the last 30 days of sales and a product page, at one seq.
#[utoipa::path(get, path = "/api/v1/stores/{store}/snapshot", tag = "stores",
    params(("store" = String, Path, description = "store slug"), View),
    responses((status = 200, body = Snapshot), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn snapshot(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    view: web::Query<View>,
) -> Result<web::Json<Snapshot>, ApiError> {
    let store = open_store(&state, &who, &path, Role::Viewer)?;
    view.validate()?;
    Ok(web::Json(ask(&store.actor, GetSnapshot(view.into_inner())).await?))
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stores", web::get().to(list))
        .route("/stores/{store}", web::get().to(get))
        .route("/stores/{store}/snapshot", web::get().to(snapshot));
}
