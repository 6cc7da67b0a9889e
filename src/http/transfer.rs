//! `POST /stores/{store}/products/import` (JSON or CSV, upsert by SKU) and
//! `GET /stores/{store}/products/export?format=csv|json`. An export imports
//! back unchanged: columns other than the importable ones are ignored.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{ask, committed, open_store, read_body, write, IMPORT_LIMIT};
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
        csv::Reader::from_reader(body)
            .deserialize()
            .enumerate()
            .map(|(i, row)| row.map_err(|e| ApiError::invalid("body", format!("CSV row {}: {e}", i + 1))))
            .collect()
    } else {
        Err(ApiError::UnsupportedMediaType { expected: "application/json or text/csv" })
    }
}

/// Creates or updates products by SKU (editor), from a JSON array or CSV
/// with a header row `sku,name,price,stock,status`.
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
    let done: Committed<ImportReport> = write(&store, &req, &who, Change::ImportProducts { rows }).await?;
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

/// The CSV export: a header row, then one row per product.
pub fn to_csv(products: &[Product]) -> Result<Vec<u8>, ApiError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| ApiError::Internal(format!("csv: {e}"));
    out.write_record([
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
    ])
    .map_err(internal)?;
    for p in products {
        out.write_record([
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
        ])
        .map_err(internal)?;
    }
    out.into_inner().map_err(|e| ApiError::Internal(format!("csv: {e}")))
}

/// Every product of the store, as CSV or JSON.
#[utoipa::path(get, path = "/api/v1/stores/{store}/products/export", tag = "products",
    params(("store" = String, Path, description = "store slug"), ExportQuery),
    responses((status = 200, description = "JSON array, or CSV with format=csv", content((Vec<Product> = "application/json"), (String = "text/csv"))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
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
