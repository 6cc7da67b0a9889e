//! Per-request bookkeeping: a request id (the client's `X-Request-Id` when
//! sane, else a fresh one) carried into the response header and the request
//! log line, request duration by status class, and error answers counted by
//! their stable code.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use super::metrics::Metrics;
use crate::error::ErrorCode;

/// The request id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map_or_else(|| crate::auth::new_token()[..16].to_owned(), str::to_owned)
}

/// The middleware (`middleware::from_fn`).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let mut res = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    if let Some(metrics) = metrics {
        let status = res.status().as_u16();
        let class = format!("{}xx", status / 100);
        metrics.http_requests.with_label_values(&[&class]).observe(started.elapsed().as_secs_f64());
        if let Some(ErrorCode(code)) = res.response().extensions().get::<ErrorCode>().copied() {
            metrics.errors.with_label_values(&[code]).inc();
            match code {
                "unauthenticated" | "bad_credentials" => metrics.auth_failures.inc(),
                "rate_limited" => metrics.rate_limited.with_label_values(&["http"]).inc(),
                _ => {}
            }
        }
    }
    Ok(res)
}
