//! `POST /stores/{store}/products/import` (JSON or CSV, upsert by SKU) and
//! `GET /stores/{store}/products/export?format=csv|json`. An export imports
//! back unchanged: columns other than the importable ones are ignored.
//!
//! CSV injection (OWASP): a CSV cell that starts with `=`, `+`, `-`, `@`, a
//! tab or a carriage return is a formula to a spreadsheet, so the export
//! guards it with a leading `'`; the import takes exactly that guard off
//! again, so names round-trip. Guarded by `tests/transfer.rs` and the unit
//! tests below.

use std::borrow::Cow;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{ask, commit, committed, open_store, read_body, IMPORT_LIMIT};
use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ErrorBody};
use crate::model::change::{Change, Committed, ImportReport};
use crate::model::{NewProduct, Product, ProductStatus};
use crate::store::messages::GetAllProducts;

/// Most rows one import may carry.
pub const MAX_IMPORT_ROWS: usize = 10_000;

/// One imported row; other columns of an export are ignored.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportRow {
    pub sku: String,
    pub name: String,
    pub price: i64,
    #[serde(default)]
    pub stock: i64,
    #[serde(default)]
    pub status: Option<ProductStatus>,
}

impl From<ImportRow> for NewProduct {
    fn from(r: ImportRow) -> Self {
        NewProduct {
            sku: r.sku,
            name: r.name,
            price: r.price,
            stock: r.stock,
            status: r.status.unwrap_or(ProductStatus::Draft),
        }
    }
}

/// What a spreadsheet reads as the start of a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether an exported cell needs the `'` guard: it starts a formula, or it
/// starts with quotes before one (so that the import, which strips one
/// quote there, gives it back unchanged).
fn needs_guard(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(FORMULA_STARTS)
}

/// An exported cell, with the `'` guard when it needs one.
fn guard(cell: &str) -> Cow<'_, str> {
    if needs_guard(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// An imported cell with the export's guard taken off: exactly one `'`,
/// and only where the export would have put it.
fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest,
        _ => cell,
    }
}

/// CSV rows with a header row, each cell unguarded.
fn parse_csv(body: &[u8]) -> Result<Vec<ImportRow>, ApiError> {
    let mut reader = csv::Reader::from_reader(body);
    let row_error = |i: usize, e: csv::Error| ApiError::invalid("body", format!("CSV row {}: {e}", i + 1));
    let headers = reader.headers().map_err(|e| row_error(0, e))?.clone();
    reader
        .records()
        .enumerate()
        .map(|(i, record)| {
            let record: csv::StringRecord = record.map_err(|e| row_error(i, e))?.iter().map(unguard).collect();
            record.deserialize(Some(&headers)).map_err(|e| row_error(i, e))
        })
        .collect()
}

/// Parses an import body by its content type (JSON array or CSV with a
/// header row); pure, so property tests feed it arbitrary bytes.
pub fn parse_rows(content_type: &str, body: &[u8]) -> Result<Vec<ImportRow>, ApiError> {
    if content_type.starts_with("application/json") {
        serde_json::from_slice(body).map_err(|e| {
            if e.is_data() {
                ApiError::invalid("body", format!("expected an array of products: {e}"))
            } else {
                ApiError::MalformedJson(e.to_string())
            }
        })
    } else if content_type.starts_with("text/csv") {
        parse_csv(body)
    } else {
        Err(ApiError::UnsupportedMediaType { expected: "application/json or text/csv" })
    }
}

/// Creates or updates products by SKU (editor), from a JSON array or CSV
/// with a header row `sku,name,price,stock,status`. A CSV cell that starts
/// with `'` before `=`, `+`, `-`, `@`, a tab or a CR loses that one `'`
/// (the guard the CSV export adds).
#[utoipa::path(post, path = "/api/v1/stores/{store}/products/import", tag = "products",
    request_body(content((Vec<ImportRow> = "application/json"), (String = "text/csv"))),
    params(("store" = String, Path, description = "store slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 200, body = ImportReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let store = open_store(&state, &who, &path, Role::Editor)?;
    // Counted before the body is read and parsed (see `http::commit`).
    state.rate_limits.write(&who.name)?;
    let body = read_body(&req, body, IMPORT_LIMIT).await?;
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let rows = parse_rows(content_type, &body)?;
    if rows.is_empty() || rows.len() > MAX_IMPORT_ROWS {
        return Err(ApiError::invalid("body", format!("an import has 1-{MAX_IMPORT_ROWS} rows")));
    }
    let rows: Vec<NewProduct> = rows.into_iter().map(NewProduct::from).collect();
    for (i, row) in rows.iter().enumerate() {
        row.validate().map_err(|e| ApiError::invalid("body", format!("row {}: {e}", i + 1)))?;
    }
    let done: Committed<ImportReport> = commit(&store, &req, &who, Change::ImportProducts { rows }).await?;
    Ok(committed(StatusCode::OK, done.seq, done.answer))
}

/// Export format.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` or `json` (default).
    #[serde(default)]
    pub format: ExportFormat,
}

/// Export format.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    #[default]
    Json,
    Csv,
}

/// A CSV document: the header row, then the rows. Every cell is guarded,
/// not only the free-text ones: the guard costs nothing where it is not
/// needed.
pub fn guarded_csv<const N: usize>(
    header: [&str; N],
    rows: impl IntoIterator<Item = [String; N]>,
) -> Result<Vec<u8>, ApiError> {
    let mut out = guarded_rows([header.map(str::to_owned)])?;
    out.extend(guarded_rows(rows)?);
    Ok(out)
}

/// CSV rows without a header, each cell guarded (a streamed export writes
/// its header once, then page after page of these).
pub fn guarded_rows<R: IntoIterator<Item = String>>(rows: impl IntoIterator<Item = R>) -> Result<Vec<u8>, ApiError> {
    let internal = |e: csv::Error| ApiError::Internal(format!("csv: {e}"));
    let mut out = csv::Writer::from_writer(Vec::new());
    for cells in rows {
        out.write_record(cells.into_iter().map(|c| guard(&c).into_owned())).map_err(internal)?;
    }
    out.into_inner().map_err(|e| ApiError::Internal(format!("csv: {e}")))
}

/// The product CSV's columns.
pub const PRODUCT_COLUMNS: [&str; 12] = [
    "id",
    "sku",
    "name",
    "price",
    "stock",
    "status",
    "image",
    "views",
    "units_sold",
    "revenue",
    "version",
    "updated_at",
];

/// A product's CSV cells, in `PRODUCT_COLUMNS` order.
pub fn product_cells(p: &Product) -> [String; 12] {
    [
        p.id.to_string(),
        p.sku.clone(),
        p.name.clone(),
        p.price.to_string(),
        p.stock.to_string(),
        p.status.as_str().to_owned(),
        p.image.clone().unwrap_or_default(),
        p.views.to_string(),
        p.units_sold.to_string(),
        p.revenue.to_string(),
        p.version.to_string(),
        p.updated_at.to_rfc3339(),
    ]
}

/// The CSV export: a header row, then one row per product.
pub fn to_csv(products: &[Product]) -> Result<Vec<u8>, ApiError> {
    guarded_csv(PRODUCT_COLUMNS, products.iter().map(product_cells))
}

/// Every product of the store, as CSV or JSON. CSV cells that a
/// spreadsheet would run as a formula are prefixed with `'`.
#[utoipa::path(get, path = "/api/v1/stores/{store}/products/export", tag = "products",
    params(("store" = String, Path, description = "store slug"), ExportQuery),
    responses((status = 200, description = "JSON array, or CSV with format=csv; a CSV cell starting with = + - @ tab or CR is prefixed with '", content((Vec<Product> = "application/json"), (String = "text/csv"))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let store = open_store(&state, &who, &path, Role::Viewer)?;
    let products = ask(&store.actor, GetAllProducts).await?;
    let slug = &store.meta.info.slug;
    let (content_type, body, ext) = match query.format {
        ExportFormat::Json => {
            ("application/json", serde_json::to_vec(&products).map_err(|e| ApiError::Internal(e.to_string()))?, "json")
        }
        ExportFormat::Csv => ("text/csv; charset=utf-8", to_csv(&products)?, "csv"),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{slug}-products.{ext}\"")))
        .body(body))
}

/// Mounts the routes (before `/products/{id}`, which would match them).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stores/{store}/products/import", web::post().to(import))
        .route("/stores/{store}/products/export", web::get().to(export));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_guarded_and_the_guard_comes_off_exactly_once() {
        let cases = [
            ("=HYPERLINK(\"http://evil.example\",\"x\")", true),
            ("+cmd", true),
            ("-2+3", true),
            ("@SUM(A1)", true),
            ("\tx", true),
            ("\rx", true),
            ("'=already quoted", true),
            ("''+two quotes", true),
            ("'plain quote", false),
            ("plain", false),
            ("a=b", false),
            ("", false),
            ("'", false),
        ];
        for (cell, guarded) in cases {
            let exported = guard(cell);
            assert_eq!(exported.starts_with('\'') && exported.len() == cell.len() + 1, guarded, "{cell:?}");
            assert!(!exported.starts_with(FORMULA_STARTS), "{cell:?} exported as a formula");
            assert_eq!(unguard(&exported), cell, "{cell:?} does not round-trip");
        }
    }

    #[test]
    fn a_csv_import_strips_the_guard_of_every_column() {
        let body = "sku,name,price,stock,status\n'-DASH,'=SUM(1),5,1,active\nPLAIN,'quoted,6,0,draft\n";
        let rows = parse_csv(body.as_bytes()).unwrap();
        assert_eq!((rows[0].sku.as_str(), rows[0].name.as_str()), ("-DASH", "=SUM(1)"));
        assert_eq!((rows[1].sku.as_str(), rows[1].name.as_str()), ("PLAIN", "'quoted"));
    }
}
