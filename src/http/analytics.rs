//! Sync performance analytics and the daily health reports (`ops::analytics`,
//! `ops::report`): `GET /admin/analytics/sync` answers one metric's time
//! series (the nodes' totals for global administrators, a store's for its
//! administrators too); `GET /admin/reports` lists the kept reports and
//! `GET /admin/reports/{day}` (`today`: made now) answers one as JSON, or
//! with `/html` as a page (global administrators).

use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{open_store, require_admin};
use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ErrorBody};
use crate::ops::analytics::{self, Series, SeriesQuery};
use crate::ops::report::{self, Listed, Report};

/// Which series to answer.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SyncQuery {
    /// latency_p50_ms, latency_p90_ms, latency_p99_ms, deliveries,
    /// deliveries_attempted, deliveries_dropped, reconnects, store_restarts
    /// (these also per store), resyncs, bytes_sent, frames_sent, errors,
    /// starts, connections, outbox_frames, resident_bytes, database_bytes,
    /// disk_free_bytes, resyncs.<reason>, alert.<name>.
    pub metric: String,
    /// A store's slug: that store's series; none: the nodes' totals.
    pub store: Option<String>,
    /// One node's series; none: every node combined.
    pub node: Option<String>,
    /// Start (RFC 3339, years 2000-2100); default 24 hours before `to`.
    pub from: Option<DateTime<Utc>>,
    /// End (exclusive); default now. At most 31 days after `from`.
    pub to: Option<DateTime<Utc>>,
    /// Seconds per point: 60, 300, 900, 3600, 21600 or 86400, at most 2000
    /// points; default the finest that fits.
    pub step: Option<i64>,
}

/// One metric's time series.
#[utoipa::path(get, path = "/api/v1/admin/analytics/sync", tag = "admin", params(SyncQuery),
    responses((status = 200, body = Series), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "the nodes' totals need a global administrator, a store's series an administrator of the store"),
        (status = 404, body = ErrorBody, description = "unknown store"),
        (status = 422, body = ErrorBody, description = "invalid_field: unknown metric, a node-only metric asked per store, from not before to, a range over 31 days, an unknown step or one giving over 2000 points")))]
pub async fn sync(
    state: web::Data<AppState>,
    who: Principal,
    query: web::Query<SyncQuery>,
) -> Result<web::Json<Series>, ApiError> {
    let q = query.into_inner();
    match &q.store {
        Some(slug) => {
            open_store(&state, &who, slug, Role::Admin)?;
        }
        None => require_admin(&who)?,
    }
    let asked = SeriesQuery { metric: q.metric, store: q.store, node: q.node, from: q.from, to: q.to, step: q.step };
    Ok(web::Json(analytics::query(&state.pool, asked, Utc::now()).await?))
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
