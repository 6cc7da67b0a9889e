//! `GET|POST /stores/{store}/products`, `GET|PATCH|DELETE
//! /stores/{store}/products/{id}` with ETag / If-Match.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ask, committed, etag, if_match, open_store, write};
use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ErrorBody};
use crate::model::bulk::{BulkReport, BulkRequest};
use crate::model::change::Change;
use crate::model::{NewProduct, Product, ProductId, ProductPage, ProductPatch, View};
use crate::store::messages::{GetPage, GetProduct, PlanBulk};

/// A product write's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductWritten {
    /// The store's seq after the write.
    pub seq: i64,
    pub product: Product,
}

/// A delete's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductDeleted {
    pub seq: i64,
    pub id: ProductId,
}

/// One page of the product table.
#[utoipa::path(get, path = "/api/v1/stores/{store}/products", tag = "products",
    params(("store" = String, Path, description = "store slug"), View),
    responses((status = 200, body = ProductPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    view: web::Query<View>,
) -> Result<web::Json<ProductPage>, ApiError> {
    let store = open_store(&state, &who, &path, Role::Viewer)?;
    view.validate()?;
    Ok(web::Json(ask(&store.actor, GetPage(view.into_inner())).await?))
}

/// A product write's answer, with the new version as ETag.
pub fn product_answer(status: StatusCode, seq: i64, product: Product) -> HttpResponse {
    let tag = etag(product.version);
    let mut res = committed(status, seq, ProductWritten { seq, product });
    if let Ok(value) = header::HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, value);
    }
    res
}

/// Creates a product (editor).
#[utoipa::path(post, path = "/api/v1/stores/{store}/products", tag = "products", request_body = NewProduct,
    params(("store" = String, Path, description = "store slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 201, body = ProductWritten), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "SKU taken"), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<NewProduct>,
) -> Result<HttpResponse, ApiError> {
    let store = open_store(&state, &who, &path, Role::Editor)?;
    body.validate()?;
    let done = write(&store, &req, &who, Change::CreateProduct(body.into_inner())).await?;
    Ok(product_answer(StatusCode::CREATED, done.seq, done.answer))
}

/// One product, with its version as ETag.
#[utoipa::path(get, path = "/api/v1/stores/{store}/products/{id}", tag = "products",
    params(("store" = String, Path, description = "store slug"), ("id" = i64, Path, description = "product id")),
    responses((status = 200, body = Product, headers(("ETag" = String))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(String, ProductId)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let store = open_store(&state, &who, &slug, Role::Viewer)?;
    let product = ask(&store.actor, GetProduct(id)).await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, etag(product.version))).json(product))
}

/// Changes some fields (editor). With `If-Match`, a stale version is a 412
/// carrying the current product; without it, the last writer wins per field.
#[utoipa::path(patch, path = "/api/v1/stores/{store}/products/{id}", tag = "products", request_body = ProductPatch,
    params(("store" = String, Path, description = "store slug"), ("id" = i64, Path, description = "product id"),
        ("If-Match" = Option<String>, Header, description = "the ETag last read"), ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 200, body = ProductWritten), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = ErrorBody, description = "stale version; details.current is the product"), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<(String, ProductId)>,
    body: web::Json<ProductPatch>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let store = open_store(&state, &who, &slug, Role::Editor)?;
    body.validate()?;
    let change = Change::PatchProduct { id, if_match: if_match(&req)?, patch: body.into_inner() };
    let done = write(&store, &req, &who, change).await?;
    Ok(product_answer(StatusCode::OK, done.seq, done.answer))
}

/// Deletes a product (editor), honouring `If-Match`.
#[utoipa::path(delete, path = "/api/v1/stores/{store}/products/{id}", tag = "products",
    params(("store" = String, Path, description = "store slug"), ("id" = i64, Path, description = "product id"),
        ("If-Match" = Option<String>, Header, description = "the ETag last read"), ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 200, body = ProductDeleted), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody)))]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<(String, ProductId)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let store = open_store(&state, &who, &slug, Role::Editor)?;
    let done = write(&store, &req, &who, Change::DeleteProduct { id, if_match: if_match(&req)? }).await?;
    Ok(committed(StatusCode::OK, done.seq, ProductDeleted { seq: done.seq, id: done.answer }))
}

/// Applies one change to many products (editor): by `ids` or by `filter`,
/// all or nothing, in one write: one transaction, one contiguous range of
/// seqs, one batch for subscribers. `dry_run` answers the same report
/// without writing; a product the change cannot apply to fails the whole
/// request, each such product named in `details.rows`.
#[utoipa::path(post, path = "/api/v1/stores/{store}/products/bulk", tag = "products", request_body = BulkRequest,
    params(("store" = String, Path, description = "store slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 200, body = BulkReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid change or selection; details.rows names the products that cannot take it")))]
pub async fn bulk(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<BulkRequest>,
) -> Result<HttpResponse, ApiError> {
    let store = open_store(&state, &who, &path, Role::Editor)?;
    let (selection, op, dry_run) = body.into_inner().into_parts()?;
    let (ids, preview) = ask(&store.actor, PlanBulk { selection, op: op.clone() }).await?;
    if dry_run {
        return Ok(HttpResponse::Ok().json(preview));
    }
    let done = write::<BulkReport>(&store, &req, &who, Change::BulkProducts { ids, change: op }).await?;
    Ok(committed(StatusCode::OK, done.seq, done.answer))
}

/// Bodies of bulk changes: 10,000 ids or restore rows need more than the
/// other routes' limit.
const BULK_JSON_LIMIT: usize = 1024 * 1024;

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/stores/{store}/products/bulk")
            .app_data(super::json_config(BULK_JSON_LIMIT))
            .route(web::post().to(bulk)),
    )
    .route("/stores/{store}/products", web::get().to(list))
    .route("/stores/{store}/products", web::post().to(create))
    .route("/stores/{store}/products/{id}", web::get().to(get))
    .route("/stores/{store}/products/{id}", web::patch().to(patch))
    .route("/stores/{store}/products/{id}", web::delete().to(delete));
}
