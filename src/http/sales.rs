//! `POST /stores/{store}/sales`, `GET /stores/{store}/sales/daily`,
//! `GET /stores/{store}/sales/summary`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ask, committed, open_store, write};
use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ErrorBody};
use crate::model::change::Change;
use crate::model::{calendar, SalesSummary};
use crate::model::{DailyPoint, NewSale, SaleReceipt};
use crate::store::messages::{GetDaily, GetSummary};

/// Longest span `GET /sales/daily` returns.
pub const MAX_DAILY_SPAN: i64 = 366;

/// A recorded sale's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SaleRecorded {
    pub seq: i64,
    pub sale: SaleReceipt,
}

/// Records an order (editor). Send an `Idempotency-Key` so a retry after a
/// timeout does not count the order twice.
#[utoipa::path(post, path = "/api/v1/stores/{store}/sales", tag = "sales", request_body = NewSale,
    params(("store" = String, Path, description = "store slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 201, body = SaleRecorded), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "order_ref already recorded"), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_field: bad lines or order_ref, or `at` outside 2000-01-01T00:00:00Z ..= now + 1 day")))]
pub async fn record(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<NewSale>,
) -> Result<HttpResponse, ApiError> {
    let store = open_store(&state, &who, &path, Role::Editor)?;
    body.validate(Utc::now())?;
    let done = write(&store, &req, &who, Change::RecordSale(body.into_inner())).await?;
    Ok(committed(StatusCode::CREATED, done.seq, SaleRecorded { seq: done.seq, sale: done.answer }))
}

/// A range of local days.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DailyQuery {
    /// First day (YYYY-MM-DD, 2000-01-01 to 2100-12-31); default 29 days
    /// before `to`.
    pub from: Option<NaiveDate>,
    /// Last day (same window); default today in the store's time zone.
    pub to: Option<NaiveDate>,
}

/// Orders, units and revenue per local day, days without sales as zeros.
#[utoipa::path(get, path = "/api/v1/stores/{store}/sales/daily", tag = "sales", params(("store" = String, Path, description = "store slug"), DailyQuery),
    responses((status = 200, body = Vec<DailyPoint>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_field: from after to, a span over 366 days, or a day outside 2000-01-01 ..= 2100-12-31")))]
pub async fn daily(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    query: web::Query<DailyQuery>,
) -> Result<web::Json<Vec<DailyPoint>>, ApiError> {
    let store = open_store(&state, &who, &path, Role::Viewer)?;
    let to = match query.to {
        Some(to) => to,
        None => calendar::local_day(store.meta.tz, Utc::now())
            .ok_or_else(|| ApiError::Internal("the clock is outside the calendar".into()))?,
    };
    calendar::check_query_day("to", to)?;
    let from = match query.from {
        Some(from) => from,
        None => to.checked_sub_days(Days::new(29)).ok_or_else(|| ApiError::invalid("to", "a date in range".into()))?,
    };
    calendar::check_query_day("from", from)?;
    if from > to || (to - from).num_days() >= MAX_DAILY_SPAN {
        return Err(ApiError::invalid("from", format!("from must be on or before to, at most {MAX_DAILY_SPAN} days")));
    }
    Ok(web::Json(ask(&store.actor, GetDaily { from, to }).await?))
}

/// Today, yesterday, the last two weeks and their trend, best sellers.
#[utoipa::path(get, path = "/api/v1/stores/{store}/sales/summary", tag = "sales", params(("store" = String, Path, description = "store slug")),
    responses((status = 200, body = SalesSummary), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn summary(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> Result<web::Json<SalesSummary>, ApiError> {
    let store = open_store(&state, &who, &path, Role::Viewer)?;
    Ok(web::Json(ask(&store.actor, GetSummary).await?))
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stores/{store}/sales", web::post().to(record))
        .route("/stores/{store}/sales/daily", web::get().to(daily))
        .route("/stores/{store}/sales/summary", web::get().to(summary));
}
