//! `GET /stores/{store}/analytics`: the store's live business analytics
//! (`model::analytics`) for the admin's analytics panel and the dashboard's
//! change against yesterday. Computed per request off the HTTP worker from
//! one indexed read of the last eight local days of sales, the products
//! they sold and the live dashboard; the store actor only answers its
//! dashboard, so commits never wait on analytics. The page reloads it on
//! the store's `sales.updated`, `dashboard.updated` and product events.

use actix_web::web;
use chrono::Utc;

use super::{ask, open_store};
use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::db::{self, queries};
use crate::error::{ApiError, ErrorBody};
use crate::model::analytics::{earliest_sale, Analytics};
use crate::model::ProductId;
use crate::store::messages::GetDashboard;

/// The store's analytics now (viewer).
#[utoipa::path(get, path = "/api/v1/stores/{store}/analytics", tag = "dashboard",
    params(("store" = String, Path, description = "store slug")),
    responses((status = 200, body = Analytics), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> Result<web::Json<Analytics>, ApiError> {
    let store = open_store(&state, &who, &path, Role::Viewer)?;
    let dashboard = ask(&store.actor, GetDashboard).await?;
    let (store_id, tz, now) = (store.meta.id, store.meta.tz, Utc::now());
    let analytics = db::blocking(&state.pool, move |conn| {
        let sales = queries::analytics::sales_since(conn, store_id, earliest_sale(now))?;
        let mut ids: Vec<ProductId> = sales.iter().flat_map(|s| s.lines.iter().map(|l| l.product_id)).collect();
        ids.sort_unstable();
        ids.dedup();
        let products = queries::analytics::products(conn, store_id, &ids)?;
        Ok(Analytics::compute(now, tz, &sales, &products, &dashboard))
    })
    .await?;
    Ok(web::Json(analytics))
}

/// Mounts the route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stores/{store}/analytics", web::get().to(get));
}
