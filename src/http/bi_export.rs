//! `GET /stores/{store}/export/{sales,products,events}`: exports for BI
//! tools, as CSV (cells guarded against formulas like the product export)
//! or JSON Lines, over a time range, continued by an opaque cursor.
//!
//! Streamed: the body is read from the database one page of `PAGE_ROWS`
//! at a time in key order (`db/queries/export.rs`) and written as it is
//! read, so memory stays one page whatever the range. An answer carries at
//! most `limit` rows; where it stops is found before the body starts (the
//! key `limit` rows on), so the cursor to continue from is a response
//! header (`X-Storesync-Next-Cursor`), absent on the last answer. Answers
//! cover disjoint key ranges: following the cursors loses and repeats
//! nothing. Guarded by `tests/bi_export.rs`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use bytes::Bytes;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::audit::{event_cells, to_json_lines, EVENT_COLUMNS};
use super::open_store;
use super::transfer::{guarded_rows, product_cells, PRODUCT_COLUMNS};
use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::db::queries::export::{self, Range, SaleKey, SaleRow};
use crate::db::{self, Conn, DbPool};
use crate::error::{ApiError, ErrorBody};
use crate::model::{calendar, SaleLine};

/// Rows read from the database per page of a streamed answer.
pub const PAGE_ROWS: i64 = 500;
/// Most rows one answer carries (`limit`).
pub const MAX_EXPORT_ROWS: i64 = 1_000_000;
/// Longest range of a sales or events export, in days.
pub const MAX_SPAN_DAYS: i64 = 92;
/// The range of a sales or events export without `from`: this many days
/// before `to`.
pub const DEFAULT_SPAN_DAYS: i64 = 90;

/// Before any row: no sale, event or product is older.
fn before_all() -> NaiveDateTime {
    DateTime::UNIX_EPOCH.naive_utc()
}

/// After any row (the last day a query may name).
fn after_all() -> NaiveDateTime {
    calendar::LATEST_QUERY_DAY.and_time(NaiveTime::MIN)
}

/// The response header with the cursor of the next answer.
pub const NEXT_CURSOR_HEADER: &str = "X-Storesync-Next-Cursor";

fn default_limit() -> i64 {
    100_000
}

/// How an export is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BiFormat {
    #[default]
    Csv,
    /// JSON Lines: one JSON document per line.
    Jsonl,
}

/// Range, cursor and format of an export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BiQuery {
    /// `csv` (default) or `jsonl`.
    #[serde(default)]
    #[param(inline)]
    pub format: BiFormat,
    /// Rows at or after this time (RFC 3339). Sales and events: 90 days
    /// before `to` when omitted; products (by `updated_at`): unbounded.
    pub from: Option<DateTime<Utc>>,
    /// Rows before this time (RFC 3339); now when omitted. Sales and events
    /// span at most 92 days.
    pub to: Option<DateTime<Utc>>,
    /// Where to continue: the `X-Storesync-Next-Cursor` of the previous
    /// answer (opaque), with the same range.
    #[param(max_length = 100)]
    pub cursor: Option<String>,
    /// Most rows in this answer (1-1000000, default 100000).
    #[serde(default = "default_limit")]
    #[param(minimum = 1, maximum = 1_000_000)]
    pub limit: i64,
}

/// What is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dataset {
    Sales,
    Products,
    Events,
}

impl Dataset {
    fn name(self) -> &'static str {
        match self {
            Self::Sales => "sales",
            Self::Products => "products",
            Self::Events => "events",
        }
    }

    /// Where an export without a cursor starts.
    fn first_key(self) -> Key {
        match self {
            Self::Sales => Key::Sale((before_all(), i64::MIN)),
            Self::Products | Self::Events => Key::Id(i64::MIN),
        }
    }
}

/// A position in an export: a sale's `(at, id)`, an event's seq or a
/// product's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Sale(SaleKey),
    Id(i64),
}

impl Key {
    /// The cursor text: opaque to clients, and naming its dataset so a
    /// cursor of another export is refused.
    fn cursor(self, dataset: Dataset) -> String {
        match self {
            Self::Sale((at, id)) => format!("{}.{}.{id}", dataset.name(), at.and_utc().timestamp_micros()),
            Self::Id(id) => format!("{}.{id}", dataset.name()),
        }
    }

    fn parse(dataset: Dataset, text: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::invalid("cursor", format!("not a cursor of the {} export", dataset.name()));
        let rest = text.strip_prefix(dataset.name()).and_then(|r| r.strip_prefix('.')).ok_or_else(bad)?;
        match dataset {
            Dataset::Sales => {
                let (micros, id) = rest.split_once('.').ok_or_else(bad)?;
                let at = DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
                let at = Some(at.naive_utc()).filter(|at| (before_all()..=after_all()).contains(at)).ok_or_else(bad)?;
                Ok(Self::Sale((at, id.parse().map_err(|_| bad())?)))
            }
            Dataset::Products | Dataset::Events => Ok(Self::Id(rest.parse().map_err(|_| bad())?)),
        }
    }

    fn sale(self) -> SaleKey {
        match self {
            Self::Sale(key) => key,
            Self::Id(_) => (after_all(), i64::MAX),
        }
    }

    fn id(self) -> i64 {
        match self {
            Self::Id(id) => id,
            Self::Sale(_) => i64::MAX,
        }
    }
}

/// One export answer: what to read and where it stops.
#[derive(Debug, Clone)]
struct Job {
    dataset: Dataset,
    format: BiFormat,
    store_id: i64,
    tz: Tz,
    range: Range,
    /// The first key past this answer (exclusive), if rows remain.
    stop: Option<Key>,
}

/// A sale as exported: its local day and units added, its lines as JSON.
#[derive(Debug, Serialize)]
struct ExportedSale {
    id: i64,
    at: DateTime<Utc>,
    /// The store's local calendar day of `at`.
    day: NaiveDate,
    order_ref: Option<String>,
    amount: i64,
    units: i64,
    lines: Vec<SaleLine>,
    recorded_by: String,
}

const SALE_COLUMNS: [&str; 8] = ["id", "at", "day", "order_ref", "amount", "units", "lines", "recorded_by"];

impl ExportedSale {
    fn new(row: SaleRow, tz: Tz) -> Self {
        let at = row.at.and_utc();
        // Only this crate writes the column, always from `Vec<SaleLine>`.
        let lines: Vec<SaleLine> = serde_json::from_str(&row.lines).unwrap_or_default();
        Self {
            id: row.id,
            at,
            day: calendar::local_day(tz, at).unwrap_or(at.date_naive()),
            order_ref: row.order_ref,
            amount: row.amount,
            units: lines.iter().map(|l| l.quantity).sum(),
            lines,
            recorded_by: row.recorded_by,
        }
    }

    fn cells(&self) -> [String; 8] {
        [
            self.id.to_string(),
            self.at.to_rfc3339(),
            self.day.to_string(),
            self.order_ref.clone().unwrap_or_default(),
            self.amount.to_string(),
            self.units.to_string(),
            serde_json::to_string(&self.lines).unwrap_or_default(),
            self.recorded_by.clone(),
        ]
    }
}

/// Encodes rows as CSV rows or JSON Lines.
fn encode<T: Serialize, const N: usize>(
    format: BiFormat,
    rows: &[T],
    cells: impl Fn(&T) -> [String; N],
) -> Result<Vec<u8>, ApiError> {
    match format {
        BiFormat::Csv => guarded_rows(rows.iter().map(cells)),
        BiFormat::Jsonl => to_json_lines(rows),
    }
}

impl Job {
    fn columns(&self) -> &'static [&'static str] {
        match self.dataset {
            Dataset::Sales => &SALE_COLUMNS,
            Dataset::Products => &PRODUCT_COLUMNS,
            Dataset::Events => &EVENT_COLUMNS,
        }
    }

    /// The key `limit` rows on from `start`: where this answer stops.
    fn stop_after(&self, conn: &mut Conn, start: Key, limit: i64) -> Result<Option<Key>, ApiError> {
        let (id, range) = (self.store_id, self.range);
        Ok(match self.dataset {
            Dataset::Sales => export::nth_sale(conn, id, range, start.sale(), limit)?.map(Key::Sale),
            Dataset::Products => export::nth_product(conn, id, range, start.id(), limit)?.map(Key::Id),
            Dataset::Events => export::nth_event(conn, id, range, start.id(), limit)?.map(Key::Id),
        })
    }

    /// Up to `n` rows from `start`, encoded: the bytes, how many rows, and
    /// the key after the last.
    fn page(&self, conn: &mut Conn, start: Key, n: i64) -> Result<(Vec<u8>, i64, Key), ApiError> {
        let (id, range, format) = (self.store_id, self.range, self.format);
        let stop_id = self.stop.map_or(i64::MAX, Key::id);
        match self.dataset {
            Dataset::Sales => {
                let stop = self.stop.map_or((range.to, i64::MIN), Key::sale);
                let rows = export::sales(conn, id, range, start.sale(), stop, n)?;
                let next = rows.last().map_or(start, |r| Key::Sale((r.at, r.id.saturating_add(1))));
                let sales: Vec<ExportedSale> = rows.into_iter().map(|r| ExportedSale::new(r, self.tz)).collect();
                Ok((encode(format, &sales, ExportedSale::cells)?, sales.len() as i64, next))
            }
            Dataset::Products => {
                let rows = export::products(conn, id, range, start.id(), stop_id, n)?;
                let next = rows.last().map_or(start, |p| Key::Id(p.id.saturating_add(1)));
                Ok((encode(format, &rows, product_cells)?, rows.len() as i64, next))
            }
            Dataset::Events => {
                let rows = export::events(conn, id, range, start.id(), stop_id, n)?;
                let next = rows.last().map_or(start, |e| Key::Id(e.seq.saturating_add(1)));
                Ok((encode(format, &rows, event_cells)?, rows.len() as i64, next))
            }
        }
    }
}

/// The range of an export: `to` defaults to now; sales and events default
/// `from` to 90 days before it and span at most 92 days. Inverted ranges
/// and times outside 2000-2100 are refused.
fn range(dataset: Dataset, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<Range, ApiError> {
    for (field, t) in [("from", from), ("to", to)] {
        if let Some(t) = t {
            calendar::check_query_day(field, t.date_naive())?;
        }
    }
    if dataset == Dataset::Products {
        let from = from.map_or_else(before_all, |t| t.naive_utc());
        let to = to.map_or_else(after_all, |t| t.naive_utc());
        if from >= to {
            return Err(ApiError::invalid("from", "from must be before to".into()));
        }
        return Ok(Range { from, to });
    }
    let to = to.unwrap_or_else(Utc::now);
    let from = from.unwrap_or(to - Duration::days(DEFAULT_SPAN_DAYS));
    if from >= to {
        return Err(ApiError::invalid("from", "from must be before to".into()));
    }
    if to - from > Duration::days(MAX_SPAN_DAYS) {
        return Err(ApiError::invalid("to", format!("a range spans at most {MAX_SPAN_DAYS} days")));
    }
    Ok(Range { from: from.naive_utc(), to: to.naive_utc() })
}

/// The answer's body: the CSV header (CSV only), then page after page,
/// each read when the previous one has been taken.
fn body(
    pool: DbPool,
    job: Job,
    start: Key,
    limit: i64,
) -> impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> + 'static {
    let header = match job.format {
        BiFormat::Csv => guarded_rows([job.columns().iter().map(|c| (*c).to_owned())]),
        BiFormat::Jsonl => Ok(Vec::new()),
    };
    let first = futures_util::stream::once(async move { header.map(Bytes::from).map_err(actix_web::Error::from) });
    let pages = futures_util::stream::unfold(Some((start, limit)), move |next| {
        let (pool, job) = (pool.clone(), job.clone());
        async move {
            let (start, remaining) = next?;
            let n = remaining.min(PAGE_ROWS);
            let read = db::blocking(&pool, move |conn| job.page(conn, start, n)).await;
            Some(match read {
                Ok((bytes, count, after)) => {
                    let more = count == n && remaining > n;
                    (Ok(Bytes::from(bytes)), more.then_some((after, remaining - n)))
                }
                Err(e) => {
                    log::warn!(error = e.detail().as_str(); "export stopped: a page read failed");
                    (Err(e.into()), None)
                }
            })
        }
    });
    futures_util::StreamExt::chain(first, pages)
}

/// Checks the query and streams the export.
async fn export(
    state: web::Data<AppState>,
    who: Principal,
    slug: &str,
    query: BiQuery,
    dataset: Dataset,
    needed: Role,
) -> Result<HttpResponse, ApiError> {
    let store = open_store(&state, &who, slug, needed)?;
    if !(1..=MAX_EXPORT_ROWS).contains(&query.limit) {
        return Err(ApiError::invalid("limit", format!("limit must be 1-{MAX_EXPORT_ROWS}")));
    }
    let range = range(dataset, query.from, query.to)?;
    let start = match &query.cursor {
        Some(text) => Key::parse(dataset, text)?,
        None => dataset.first_key(),
    };
    let mut job = Job { dataset, format: query.format, store_id: store.meta.id, tz: store.meta.tz, range, stop: None };
    let limit = query.limit;
    let probe = job.clone();
    job.stop = db::blocking(&state.pool, move |conn| probe.stop_after(conn, start, limit)).await?;
    let (content_type, ext) = match query.format {
        BiFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        BiFormat::Jsonl => ("application/x-ndjson", "jsonl"),
    };
    let name = format!("attachment; filename=\"{}-{}.{ext}\"", store.meta.info.slug, dataset.name());
    let mut res = HttpResponse::Ok();
    res.content_type(content_type).insert_header((header::CONTENT_DISPOSITION, name));
    if let Some(stop) = job.stop {
        res.insert_header((NEXT_CURSOR_HEADER, stop.cursor(dataset)));
    }
    Ok(res.streaming(body(state.pool.clone(), job, start, limit)))
}

/// The store's sales in a time range (viewer): one row per order with its
/// local day, amount, units and lines, ordered by time.
#[utoipa::path(get, path = "/api/v1/stores/{store}/export/sales", tag = "sales",
    params(("store" = String, Path, description = "store slug"), BiQuery),
    responses((status = 200, description = "CSV (cells starting with = + - @ tab or CR prefixed with ') or JSON Lines, streamed; the cursor of the next answer in X-Storesync-Next-Cursor",
            content((String = "text/csv"), (String = "application/x-ndjson"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "an inverted range, one over 92 days, a bad limit or cursor (`invalid_field`)")))]
pub async fn sales(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    query: web::Query<BiQuery>,
) -> Result<HttpResponse, ApiError> {
    export(state, who, &path, query.into_inner(), Dataset::Sales, Role::Viewer).await
}

/// The store's products (viewer), optionally only those changed in a time
/// range, ordered by id.
#[utoipa::path(get, path = "/api/v1/stores/{store}/export/products", tag = "products",
    params(("store" = String, Path, description = "store slug"), BiQuery),
    responses((status = 200, description = "CSV (cells starting with = + - @ tab or CR prefixed with ') or JSON Lines, streamed; the cursor of the next answer in X-Storesync-Next-Cursor",
            content((String = "text/csv"), (String = "application/x-ndjson"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "an inverted range, a bad limit or cursor (`invalid_field`)")))]
pub async fn products(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    query: web::Query<BiQuery>,
) -> Result<HttpResponse, ApiError> {
    export(state, who, &path, query.into_inner(), Dataset::Products, Role::Viewer).await
}

/// The store's event stream in a time range (store admin: events name who
/// changed what), ordered by seq.
#[utoipa::path(get, path = "/api/v1/stores/{store}/export/events", tag = "events",
    params(("store" = String, Path, description = "store slug"), BiQuery),
    responses((status = 200, description = "CSV (cells starting with = + - @ tab or CR prefixed with ') or JSON Lines, streamed; the cursor of the next answer in X-Storesync-Next-Cursor",
            content((String = "text/csv"), (String = "application/x-ndjson"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "an inverted range, one over 92 days, a bad limit or cursor (`invalid_field`)")))]
pub async fn events(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    query: web::Query<BiQuery>,
) -> Result<HttpResponse, ApiError> {
    export(state, who, &path, query.into_inner(), Dataset::Events, Role::Admin).await
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stores/{store}/export/sales", web::get().to(sales))
        .route("/stores/{store}/export/products", web::get().to(products))
        .route("/stores/{store}/export/events", web::get().to(events));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_name_their_export() {
        let at = "2026-03-01T10:00:00.123456Z".parse::<DateTime<Utc>>().unwrap().naive_utc();
        let key = Key::Sale((at, 42));
        assert_eq!(Key::parse(Dataset::Sales, &key.cursor(Dataset::Sales)).unwrap(), key);
        assert_eq!(Key::parse(Dataset::Events, &Key::Id(7).cursor(Dataset::Events)).unwrap(), Key::Id(7));
        for (dataset, bad) in [(Dataset::Products, "events.7"), (Dataset::Sales, "sales.x.1"), (Dataset::Events, "")] {
            assert_eq!(Key::parse(dataset, bad).unwrap_err().code(), "invalid_field", "{bad}");
        }
    }

    #[test]
    fn ranges_are_bounded_and_ordered() {
        let t = |s: &str| Some(s.parse::<DateTime<Utc>>().unwrap());
        assert!(range(Dataset::Sales, t("2026-01-01T00:00:00Z"), t("2026-04-01T00:00:00Z")).is_ok());
        let code = |r: Result<Range, ApiError>| r.unwrap_err().code();
        assert_eq!(code(range(Dataset::Sales, t("2026-01-01T00:00:00Z"), t("2026-05-01T00:00:00Z"))), "invalid_field");
        assert_eq!(code(range(Dataset::Events, t("2026-02-01T00:00:00Z"), t("2026-01-01T00:00:00Z"))), "invalid_field");
        assert_eq!(code(range(Dataset::Products, t("1900-01-01T00:00:00Z"), None)), "invalid_field");
        assert!(range(Dataset::Products, t("2020-01-01T00:00:00Z"), None).is_ok(), "products span any length");
    }
}
