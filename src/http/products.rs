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
use crate::model::change::Change;
use crate::model::{NewProduct, Product, ProductId, ProductPage, ProductPatch, View};
use crate::store::messages::{GetPage, GetProduct};

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

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stores/{store}/products", web::get().to(list))
        .route("/stores/{store}/products", web::post().to(create))
        .route("/stores/{store}/products/{id}", web::get().to(get))
        .route("/stores/{store}/products/{id}", web::patch().to(patch))
        .route("/stores/{store}/products/{id}", web::delete().to(delete));
}
