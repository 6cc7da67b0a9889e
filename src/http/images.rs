//! `PUT|DELETE /stores/{store}/products/{id}/image` (editor),
//! `GET /media/{store}/{hash}/{size}`, `POST /admin/media/gc`.
//! Processing runs on the blocking pool, at most `--image-concurrency`
//! uploads at once (the image gate, see `media`); the product's new image is a
//! committed write like any other, so subscribers get
//! `product.image_changed` in the same flush as other changes.

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Serialize;
use utoipa::ToSchema;

use super::products::{product_answer, ProductWritten};
use super::{ask, commit, if_match, open_store, read_body, require_admin, write};
use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::db;
use crate::error::{ApiError, ErrorBody};
use crate::media::{self, gc};
use crate::model::change::Change;
use crate::model::ProductId;
use crate::store::messages::GetProduct;

/// Reads the upload: the first file part of a multipart form, or the raw
/// body. Its type is decided by its bytes later, never by its headers.
async fn upload_bytes(req: &HttpRequest, payload: web::Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        return Ok(read_body(req, payload, limit).await?.to_vec());
    }
    // The whole form is bounded (the file plus room for headers and other
    // parts), however it is sent: chunked bodies have no Content-Length.
    let form = read_body(req, payload, limit + 64 * 1024)
        .await
        .map_err(|e| if matches!(e, ApiError::TooLarge { .. }) { ApiError::TooLarge { limit } } else { e })?
        .freeze();
    let body = futures_util::stream::once(async move { Ok::<_, actix_web::error::PayloadError>(form) });
    let mut form = actix_multipart::Multipart::new(req.headers(), body);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| ApiError::BadRequest(format!("multipart: {e}")))?;
        if field.content_disposition().and_then(|d| d.get_filename()).is_none() {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("multipart: {e}")))?;
            if bytes.len() + chunk.len() > limit {
                return Err(ApiError::TooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(bytes);
    }
    Err(ApiError::invalid("image", "the form has no file part".into()))
}

/// Uploads or replaces a product's image (editor): PNG, JPEG or WebP, as a
/// raw body or a multipart form. Stores the re-encoded original, a card
/// (≤400 px) and a thumbnail (≤64 px).
#[utoipa::path(put, path = "/api/v1/stores/{store}/products/{id}/image", tag = "products",
    request_body(content((Vec<u8> = "image/*"), (String = "multipart/form-data"))),
    params(("store" = String, Path, description = "store slug"), ("id" = i64, Path, description = "product id"), ("If-Match" = Option<String>, Header, description = "the ETag last read"), ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 200, body = ProductWritten), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 413, body = ErrorBody, description = "body too large"), (status = 415, body = ErrorBody, description = "not PNG, JPEG or WebP"), (status = 422, body = ErrorBody, description = "cannot be decoded, or dimensions over the limit (limit_exceeded)"),
        (status = 429, body = ErrorBody, description = "over the write budget; see Retry-After"), (status = 503, body = ErrorBody, description = "too many images being processed; see Retry-After")))]
pub async fn put(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<(String, ProductId)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let store = open_store(&state, &who, &slug, Role::Editor)?;
    // The write is counted before the upload is read and decoded: a
    // principal over its budget costs no decoding.
    state.rate_limits.write(&who.name)?;
    ask(&store.actor, GetProduct(id)).await?;
    let bytes = upload_bytes(&req, payload, state.config.max_image_bytes).await?;
    let decoding = state.image_gate.enter().await.ok_or_else(|| {
        log::warn!("image gate full: upload turned away");
        ApiError::Busy("processing images")
    })?;
    let processed = actix_web::rt::task::spawn_blocking(move || media::process(&bytes))
        .await
        .map_err(|e| ApiError::Internal(format!("image task: {e}")))??;
    drop(decoding);
    let pin = state.media.pin(&processed.hash);
    let (media_store, hash) = (state.media.clone(), processed.hash.clone());
    actix_web::rt::task::spawn_blocking(move || media_store.store(&processed))
        .await
        .map_err(|e| ApiError::Internal(format!("image task: {e}")))??;
    let change = Change::SetImage { id, if_match: if_match(&req)?, image: Some(hash) };
    let done = commit(&store, &req, &who, change).await?;
    drop(pin);
    Ok(product_answer(StatusCode::OK, done.seq, done.answer))
}

/// Removes a product's image (editor); the files are collected later.
#[utoipa::path(delete, path = "/api/v1/stores/{store}/products/{id}/image", tag = "products",
    params(("store" = String, Path, description = "store slug"), ("id" = i64, Path, description = "product id"), ("If-Match" = Option<String>, Header, description = "the ETag last read"), ("Idempotency-Key" = Option<String>, Header, description = "retry-safe write key")),
    responses((status = 200, body = ProductWritten), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody)))]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<(String, ProductId)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let store = open_store(&state, &who, &slug, Role::Editor)?;
    let done = write(&store, &req, &who, Change::SetImage { id, if_match: if_match(&req)?, image: None }).await?;
    Ok(product_answer(StatusCode::OK, done.seq, done.answer))
}

/// Serves a stored image with a strong ETag and immutable caching. Images of
/// stores that are not public need a grant (any role) on the store; without
/// one the answer is the same `404` as for an unknown store or image.
#[utoipa::path(get, path = "/media/{store}/{hash}/{size}", tag = "products",
    params(("store" = String, Path, description = "store slug"), ("hash" = String, Path, description = "the product's image hash"), ("size" = String, Path, description = "original, card or thumb")),
    responses((status = 200, description = "the image"), (status = 304),
        (status = 404, body = ErrorBody, description = "unknown store or image, or a private store without a login or grant: one identical answer")))]
pub async fn serve(
    state: web::Data<AppState>,
    who: Option<Principal>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, hash, size) = path.into_inner();
    // One answer for an unknown store, a private store without a login or
    // a grant, and an image the store does not use: the slug is not in it,
    // so it tells nothing about which private stores exist.
    let what = format!("image {hash}/{size}");
    let not_found = || ApiError::NotFound(what.clone());
    let meta = state.registry.meta(&slug).map_err(|_| not_found())?;
    if !meta.info.public && who.and_then(|who| who.role(meta.id)).is_none() {
        return Err(not_found());
    }
    if !media::is_hash(&hash) || !media::SIZES.contains(&size.as_str()) {
        return Err(not_found());
    }
    let (store_id, lookup) = (meta.id, hash.clone());
    if !db::blocking(&state.pool, move |conn| Ok(db::queries::products::store_uses_image(conn, store_id, &lookup)?))
        .await?
    {
        return Err(not_found());
    }
    let tag = format!("\"{hash}-{size}\"");
    let cache =
        if meta.info.public { "public, max-age=31536000, immutable" } else { "private, max-age=31536000, immutable" };
    if req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(tag.as_str()) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish());
    }
    let media_store = state.media.clone();
    let file = actix_web::rt::task::spawn_blocking(move || media_store.read(&hash, &size))
        .await
        .map_err(|e| ApiError::Internal(format!("media read: {e}")))?;
    let (bytes, content_type) = file.ok_or_else(not_found)?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes))
}

/// What a collection removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Collected {
    pub removed: usize,
}

/// Collects unreferenced images now (global admin), with the configured grace.
#[utoipa::path(post, path = "/api/v1/admin/media/gc", tag = "admin",
    responses((status = 200, body = Collected), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn collect(state: web::Data<AppState>, who: Principal) -> Result<web::Json<Collected>, ApiError> {
    require_admin(&who)?;
    let removed = gc::collect(&state.pool, &state.media, Duration::from_secs(state.config.media_gc_grace_secs)).await?;
    Ok(web::Json(Collected { removed }))
}

/// Mounts the API routes (under /api/v1).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stores/{store}/products/{id}/image", web::put().to(put))
        .route("/stores/{store}/products/{id}/image", web::delete().to(delete))
        .route("/admin/media/gc", web::post().to(collect));
}
