//! `GET /stores/{store}/audit`: the audit trail of a store, for its
//! administrators. The events table already records who changed what and
//! when; this reads it filtered (entity, kind, principal, time range) a
//! page at a time by seq cursor, as JSON, or exported as CSV (cells guarded
//! against formulas like the product export) or JSON Lines.
//! `GET /stores/{store}/products/{id}/history`: one product's changes
//! from the same events, field by field with the value before and after.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::transfer::guarded_csv;
use super::{ask, open_store};
use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::db;
use crate::db::queries::events::{self, AuditFilter};
use crate::error::{ApiError, ErrorBody};
use crate::model::history::HistoryEntry;
use crate::model::{Event, EventKind, ProductId, Seq};
use crate::store::messages::GetProduct;

/// Most events one answer carries.
pub const MAX_AUDIT_EVENTS: i64 = 5000;

fn default_limit() -> i64 {
    100
}

/// How the answer is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditFormat {
    #[default]
    Json,
    Csv,
    /// JSON Lines: one event per line.
    Ndjson,
}

/// Which events, and how.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only events about this product or sale id.
    pub entity: Option<i64>,
    /// Only events of this kind (`product.updated`, ...).
    pub kind: Option<String>,
    /// Only changes by this principal (`user:<name>` or `token:<name>`).
    #[param(max_length = 200)]
    pub principal: Option<String>,
    /// Only events at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only events before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Cursor: answer events with a seq above this (default 0).
    #[serde(default)]
    #[param(minimum = 0)]
    pub after: Seq,
    /// At most this many (1-5000, default 100).
    #[serde(default = "default_limit")]
    #[param(minimum = 1, maximum = 5000)]
    pub limit: i64,
    /// `json` (default), `csv` or `ndjson`.
    #[serde(default)]
    #[param(inline)]
    pub format: AuditFormat,
}

/// One page of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub events: Vec<Event>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<Seq>,
}

/// The header that carries the cursor of CSV and JSON Lines answers.
const NEXT_AFTER_HEADER: &str = "X-Storesync-Next-After";

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter, ApiError> {
        if self.after < 0 || !(1..=MAX_AUDIT_EVENTS).contains(&self.limit) {
            return Err(ApiError::invalid("query", format!("after >= 0, limit 1-{MAX_AUDIT_EVENTS}")));
        }
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if from >= to {
                return Err(ApiError::invalid("from", "from must be before to".into()));
            }
        }
        if self.principal.as_ref().is_some_and(|p| p.chars().count() > 200) {
            return Err(ApiError::invalid("principal", "principal must be at most 200 characters".into()));
        }
        let kind = match &self.kind {
            Some(name) => Some(
                EventKind::parse(name)
                    .ok_or_else(|| ApiError::invalid("kind", format!("unknown event kind {name}")))?
                    .as_str(),
            ),
            None => None,
        };
        Ok(AuditFilter {
            entity_id: self.entity,
            kind,
            actor: self.principal.clone(),
            from: self.from.map(|t| t.naive_utc()),
            to: self.to.map(|t| t.naive_utc()),
        })
    }
}

/// The event CSV's columns; `data` is the event's JSON.
pub const EVENT_COLUMNS: [&str; 6] = ["seq", "at", "kind", "entity_id", "by", "data"];

/// An event's CSV cells, in `EVENT_COLUMNS` order.
pub fn event_cells(e: &Event) -> [String; 6] {
    [
        e.seq.to_string(),
        e.at.to_rfc3339(),
        e.kind.as_str().to_owned(),
        e.entity_id.map(|id| id.to_string()).unwrap_or_default(),
        e.by.clone(),
        e.data.to_string(),
    ]
}

/// The CSV of a page: a header row, then one row per event.
fn to_csv(events: &[Event]) -> Result<Vec<u8>, ApiError> {
    guarded_csv(EVENT_COLUMNS, events.iter().map(event_cells))
}

/// JSON Lines: one JSON document per line.
pub fn to_json_lines<T: Serialize>(items: &[T]) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    for item in items {
        serde_json::to_writer(&mut out, item).map_err(|e| ApiError::Internal(e.to_string()))?;
        out.push(b'\n');
    }
    Ok(out)
}

/// The store's events that pass the filters, oldest first (store admin).
#[utoipa::path(get, path = "/api/v1/stores/{store}/audit", tag = "events", params(("store" = String, Path, description = "store slug"), AuditQuery),
    responses((status = 200, body = AuditPage, description = "JSON; with format=csv or ndjson an attachment, the cursor in X-Storesync-Next-After",
            content((AuditPage = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let store = open_store(&state, &who, &path, Role::Admin)?;
    let filter = query.filter()?;
    let (store_id, after, limit) = (store.meta.id, query.after, query.limit);
    let events = db::blocking(&state.pool, move |conn| events::audit(conn, store_id, &filter, after, limit)).await?;
    let next_after = (events.len() as i64 == limit).then(|| events.last().map(|e| e.seq)).flatten();
    let slug = &store.meta.info.slug;
    let (content_type, body, ext) = match query.format {
        AuditFormat::Json => return Ok(HttpResponse::Ok().json(AuditPage { events, next_after })),
        AuditFormat::Csv => ("text/csv; charset=utf-8", to_csv(&events)?, "csv"),
        AuditFormat::Ndjson => ("application/x-ndjson", to_json_lines(&events)?, "jsonl"),
    };
    let mut res = HttpResponse::Ok();
    res.content_type(content_type)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{slug}-audit-{after}.{ext}\"")));
    if let Some(next) = next_after {
        res.insert_header((NEXT_AFTER_HEADER, next.to_string()));
    }
    Ok(res.body(body))
}

/// Most changes one history answer carries.
pub const MAX_HISTORY_ENTRIES: i64 = 1000;

/// Which of a product's changes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Cursor: answer changes with a seq above this (default 0).
    #[serde(default)]
    #[param(minimum = 0)]
    pub after: Seq,
    /// At most this many (1-1000, default 100).
    #[serde(default = "default_limit")]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: i64,
}

/// One page of a product's history, oldest change first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductHistoryPage {
    pub product_id: ProductId,
    pub entries: Vec<HistoryEntry>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<Seq>,
}

/// A product's changes, field by field with the value before and after
/// (store admin). A deleted product's history stays readable.
#[utoipa::path(get, path = "/api/v1/stores/{store}/products/{id}/history", tag = "events",
    params(("store" = String, Path, description = "store slug"), ("id" = i64, Path, description = "product id"), HistoryQuery),
    responses((status = 200, body = ProductHistoryPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn product_history(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(String, ProductId)>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let store = open_store(&state, &who, &slug, Role::Admin)?;
    let HistoryQuery { after, limit } = query.into_inner();
    if after < 0 || !(1..=MAX_HISTORY_ENTRIES).contains(&limit) {
        return Err(ApiError::invalid("query", format!("after >= 0, limit 1-{MAX_HISTORY_ENTRIES}")));
    }
    let store_id = store.meta.id;
    let entries =
        db::blocking(&state.pool, move |conn| events::product_history(conn, store_id, id, after, limit as usize))
            .await?;
    if entries.is_empty() && after == 0 {
        // No change recorded: a product of the store never changed, or none.
        ask(&store.actor, GetProduct(id)).await?;
    }
    let next_after = (entries.len() as i64 == limit).then(|| entries.last().map(|e| e.seq)).flatten();
    Ok(HttpResponse::Ok().json(ProductHistoryPage { product_id: id, entries, next_after }))
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stores/{store}/audit", web::get().to(list))
        .route("/stores/{store}/products/{id}/history", web::get().to(product_history));
}
