//! HTTP: the route table, the extractor error handlers that
//! turn bad input into stable 4xx codes, and the helpers every resource
//! uses to reach a store actor with the principal's grant checked. One file
//! per resource holds its handlers.

pub mod admin;
pub mod analytics;
pub mod audit;
pub mod auth;
pub mod bi_export;
pub mod body_deadline;
pub mod dashboard;
pub mod docs;
pub mod events;
pub mod feedback;
pub mod headers;
pub mod health;
pub mod images;
pub mod kpis;
pub mod limits;
pub mod manage_stores;
pub mod openapi;
pub mod products;
pub mod sales;
pub mod sales_analytics;
pub mod saved_views;
pub mod scheduled;
pub mod stores;
pub mod transfer;
pub mod users;
pub mod ws;

use std::sync::Arc;

use actix::dev::ToEnvelope;
use actix::{Actor, Addr, Handler, Message};
use actix_web::error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::app::AppState;
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::model::change::{Answer, Change, Committed, IdempotencyKey, PendingChange};
use crate::store::messages::Write;
use crate::store::{StoreActor, StoreMeta};

/// Largest JSON body accepted by ordinary routes.
pub const JSON_LIMIT: usize = 64 * 1024;
/// Largest import body.
pub const IMPORT_LIMIT: usize = 8 * 1024 * 1024;

/// A store the principal may use, and its actor.
pub struct OpenStore<'a> {
    pub state: &'a AppState,
    pub meta: Arc<StoreMeta>,
    pub actor: Addr<StoreActor>,
    pub role: Role,
}

/// Resolves a store slug and checks that the principal holds `needed` on it.
/// Unknown and ungranted stores answer the same `not_found`; an archived
/// store is read-only, and readable only by its admins (`store_archived`).
pub fn open_store<'a>(
    state: &'a AppState,
    who: &Principal,
    slug: &str,
    needed: Role,
) -> Result<OpenStore<'a>, ApiError> {
    let meta = state.registry.meta(slug)?;
    let role = who.require(meta.id, slug, needed)?;
    meta.check_open(role, needed)?;
    let actor = state.registry.actor(&meta);
    Ok(OpenStore { state, meta, actor, role })
}

/// Refuses anyone but a global administrator.
pub fn require_admin(who: &Principal) -> Result<(), ApiError> {
    if who.is_admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden("this needs an administrator".into()))
    }
}

/// Sends a message to an actor; a stopped or overloaded actor is a 503.
pub async fn ask<A, M, T>(addr: &Addr<A>, msg: M) -> Result<T, ApiError>
where
    A: Actor + Handler<M>,
    A::Context: ToEnvelope<A, M>,
    M: Message<Result = Result<T, ApiError>> + Send + 'static,
    T: Send + 'static,
{
    addr.send(msg).await.map_err(|_| ApiError::Unavailable)?
}

/// The `If-Match` version, if sent: `"3"`, `W/"3"` or `3`; `*` matches any.
pub fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(value) = req.headers().get(actix_web::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let bare = text.trim_start_matches("W/").trim_matches('"');
    bare.parse().map(Some).map_err(|_| ApiError::BadRequest("If-Match must be a product version ETag".into()))
}

/// The strong ETag of a product version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The `Idempotency-Key` of a request, scoped to its principal.
pub fn idempotency_key(
    req: &HttpRequest,
    who: &Principal,
    change: &Change,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default();
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadRequest("Idempotency-Key must be 1-200 visible ASCII characters".into()));
    }
    Ok(Some(IdempotencyKey { principal: who.name.clone(), key: key.to_owned(), fingerprint: change.fingerprint() }))
}

/// Counts a write against the principal's write budget, then sends it to
/// the store's actor and waits until it is durable; answers its seq and the
/// answer its kind of change produces.
pub async fn write<T: Answer>(
    store: &OpenStore<'_>,
    req: &HttpRequest,
    who: &Principal,
    change: Change,
) -> Result<Committed<T>, ApiError> {
    store.state.rate_limits.write(&who.name)?;
    commit(store, req, who, change).await
}

/// Like `write`, for a handler that counted the write itself before some
/// expensive work (reading and decoding an upload, parsing an import), so
/// that a principal over its budget is refused before that work.
pub async fn commit<T: Answer>(
    store: &OpenStore<'_>,
    req: &HttpRequest,
    who: &Principal,
    change: Change,
) -> Result<Committed<T>, ApiError> {
    let idempotency = idempotency_key(req, who, &change)?;
    let pending = PendingChange { by: who.name.clone(), idempotency, change };
    let applied = ask(&store.actor, Write(pending)).await?;
    let answer = T::from_outcome(applied.outcome)
        .map_err(|other| ApiError::Internal(format!("write answered an unexpected outcome {other:?}")))?;
    Ok(Committed { seq: applied.seq, answer })
}

/// The response header carrying the seq a write committed at.
pub const SEQ_HEADER: &str = "x-storesync-seq";

/// A JSON answer to a committed write, with its seq in a header too.
pub fn committed(status: actix_web::http::StatusCode, seq: i64, body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::build(status).insert_header((SEQ_HEADER, seq.to_string())).json(body)
}

/// Reads a raw body, refusing it with 413 as soon as it passes `limit`
/// (before reading it all when Content-Length says so).
pub async fn read_body(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> Result<web::BytesMut, ApiError> {
    use futures_util::StreamExt;
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::TooLarge { limit });
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| body_read_error(req, &e))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// What a failed body read answers: `408 request_timeout` when the body
/// deadline (`body_deadline`) passed, else `400`.
fn body_read_error(req: &HttpRequest, err: &PayloadError) -> ApiError {
    if body_deadline::is_deadline(err) {
        let secs = req.app_data::<web::Data<AppState>>().map_or(0, |s| s.config.body_timeout().as_secs());
        ApiError::RequestTimeout { secs }
    } else {
        ApiError::BadRequest(format!("reading the body failed: {err}"))
    }
}

fn json_error(err: JsonPayloadError, req: &HttpRequest) -> actix_web::Error {
    let api = match err {
        JsonPayloadError::Payload(e) => body_read_error(req, &e),
        JsonPayloadError::Overflow { limit } | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            ApiError::TooLarge { limit }
        }
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType { expected: "application/json" },
        JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::invalid("body", e.to_string()),
        JsonPayloadError::Deserialize(e) => ApiError::MalformedJson(e.to_string()),
        other => ApiError::BadRequest(other.to_string()),
    };
    api.into()
}

fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid query string: {err}")).into()
}

fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid path: {err}")).into()
}

async fn no_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("route".into()))
}

/// Serves the browser pages from `static_dir` when it exists: `/admin`,
/// `/storefront` (also `/`), `/manage` and their modules.
pub fn pages(cfg: &mut web::ServiceConfig, static_dir: &std::path::Path) {
    if !static_dir.is_dir() {
        return;
    }
    let pages = [
        ("/", "storefront.html"),
        ("/admin", "admin.html"),
        ("/storefront", "storefront.html"),
        ("/manage", "manage.html"),
    ];
    for (route, file) in pages {
        let path = static_dir.join(file);
        cfg.route(
            route,
            web::route().guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head())).to(
                move || {
                    let path = path.clone();
                    async move { actix_files::NamedFile::open_async(path).await }
                },
            ),
        );
    }
    cfg.service(actix_files::Files::new("/", static_dir));
}

/// JSON bodies up to `limit` bytes, refused with the API's own errors.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(json_error)
}

/// Mounts every route on an app.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(json_config(JSON_LIMIT))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/ws", web::get().to(ws::upgrade))
        .route("/ws-echo", web::get().to(ws::echo))
        .route("/metrics", web::get().to(health::metrics))
        .route("/media/{store}/{hash}/{size}", web::get().to(images::serve))
        .service(
            web::scope("/api/v1")
                .route("/openapi.json", web::get().to(openapi::spec))
                .configure(auth::routes)
                .configure(stores::routes)
                .configure(transfer::routes)
                .configure(products::routes)
                .configure(saved_views::routes)
                .configure(scheduled::routes)
                .configure(dashboard::routes)
                .configure(sales::routes)
                .configure(events::routes)
                .configure(audit::routes)
                .configure(feedback::routes)
                .configure(bi_export::routes)
                .configure(sales_analytics::routes)
                .configure(kpis::routes)
                .route("/admin/health", web::get().to(health::admin_health))
                .route("/admin/alerts", web::get().to(health::admin_alerts))
                .configure(images::routes)
                .configure(admin::routes)
                .configure(manage_stores::routes)
                .configure(users::routes)
                .configure(analytics::routes)
                .default_service(web::to(no_route)),
        );
}
