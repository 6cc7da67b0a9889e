//! Sync performance analytics and the daily health reports (`ops::analytics`,
//! `ops::report`): `GET /admin/analytics/sync` answers one metric's time
//! series (the nodes' totals for global administrators, a store's for its
//! administrators too); `GET /admin/reports` lists the kept reports and
//! `GET /admin/reports/{day}` (`today`: made now) answers one as JSON, or
//! with `/html` as a page (global administrators).

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, Utc};

use super::{open_store, require_admin};
use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ErrorBody};
use crate::ops::analytics::{self, Series, SeriesQuery};
use crate::ops::report::{self, Listed, Report};

/// One metric's time series.
#[utoipa::path(get, path = "/api/v1/admin/analytics/sync", tag = "admin", params(SeriesQuery),
    responses((status = 200, body = Series), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "the nodes' totals need a global administrator, a store's series an administrator of the store"),
        (status = 404, body = ErrorBody, description = "unknown store"),
        (status = 422, body = ErrorBody, description = "invalid_field: unknown metric, a node-only metric asked per store, from not before to, a range over 31 days, an unknown step or one giving over 2000 points")))]
pub async fn sync(
    state: web::Data<AppState>,
    who: Principal,
    query: web::Query<SeriesQuery>,
) -> Result<web::Json<Series>, ApiError> {
    let q = query.into_inner();
    match &q.store {
        Some(slug) => {
            open_store(&state, &who, slug, Role::Admin)?;
        }
        None => require_admin(&who)?,
    }
    Ok(web::Json(analytics::query(&state.pool, q, Utc::now()).await?))
}

/// The kept daily reports, newest first (global administrators).
#[utoipa::path(get, path = "/api/v1/admin/reports", tag = "admin",
    responses((status = 200, body = Vec<Listed>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(state: web::Data<AppState>, who: Principal) -> Result<web::Json<Vec<Listed>>, ApiError> {
    require_admin(&who)?;
    Ok(web::Json(report::list(&state.pool).await?))
}

/// The report of `day`: kept, or made now for `today`.
async fn find(state: &AppState, day: &str) -> Result<Report, ApiError> {
    let now = Utc::now();
    if day == "today" {
        return report::generate(&state.pool, &state.config.node(), now.date_naive(), now).await;
    }
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid("day", "a day is YYYY-MM-DD or today".into()))?;
    report::stored(&state.pool, day).await
}

/// A daily health report as JSON (global administrators).
#[utoipa::path(get, path = "/api/v1/admin/reports/{day}", tag = "admin",
    params(("day" = String, Path, description = "YYYY-MM-DD (UTC), or `today` for today so far")),
    responses((status = 200, body = Report), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no report kept for that day"),
        (status = 422, body = ErrorBody, description = "invalid_field: the day is not YYYY-MM-DD or today")))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> Result<web::Json<Report>, ApiError> {
    require_admin(&who)?;
    Ok(web::Json(find(&state, &path).await?))
}

/// A daily health report as a readable page (global administrators).
#[utoipa::path(get, path = "/api/v1/admin/reports/{day}/html", tag = "admin",
    params(("day" = String, Path, description = "YYYY-MM-DD (UTC), or `today` for today so far")),
    responses((status = 200, content_type = "text/html", body = String, description = "the report as a page"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no report kept for that day"),
        (status = 422, body = ErrorBody, description = "invalid_field: the day is not YYYY-MM-DD or today")))]
pub async fn page(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&who)?;
    let report = find(&state, &path).await?;
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(report::html(&report)))
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/analytics/sync", web::get().to(sync))
        .route("/admin/reports", web::get().to(list))
        .route("/admin/reports/{day}", web::get().to(get))
        .route("/admin/reports/{day}/html", web::get().to(page));
}
