//! Admin operations on stores: `POST /admin/stores/{store}/reload` reads a
//! store's live state again from the database, in the background while the
//! old state keeps answering, for operators who changed the database by
//! hand or suspect the live state.

use actix_web::{web, HttpResponse};

use super::open_store;
use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ErrorBody};
use crate::store::messages::Reload;

/// Reloads a store's live state (admin); its clients are told to resync.
#[utoipa::path(post, path = "/api/v1/admin/stores/{store}/reload", tag = "admin", params(("store" = String, Path, description = "store slug")),
    responses((status = 202, description = "reload started"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reload(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let store = open_store(&state, &who, &path, Role::Admin)?;
    store.actor.do_send(Reload);
    log::info!(store = store.meta.info.slug.as_str(), by = who.name.as_str(); "store reload requested");
    Ok(HttpResponse::Accepted().finish())
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/stores/{store}/reload", web::post().to(reload));
}
