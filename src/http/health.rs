//! `GET /healthz` (the process serves) and `GET /readyz` (the database
//! answers, migrations are applied, store actors answer); `GET /metrics`
//! (closed by default: loopback only, or the `--metrics-token` bearer) and
//! the admins' sync-health panel. Guarded by `tests/ops.rs`.

use std::net::IpAddr;

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::ask;
use crate::app::AppState;
use crate::db;
use crate::error::ApiError;
use crate::store::messages::WatchSeq;

/// Liveness: 200 whenever the server runs.
#[utoipa::path(get, path = "/healthz", tag = "ops", security(()), responses((status = 200, description = "serving")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn check(state: &AppState) -> Result<(), String> {
    let current = db::blocking(&state.pool, |conn| {
        let current = db::migrations_current(conn)?;
        // The stores table is read by every store actor start.
        db::queries::stores::all(conn)?;
        Ok(current)
    })
    .await
    .map_err(|e| e.detail())?;
    if !current {
        return Err("migrations pending".into());
    }
    if let Some(meta) = state.registry.stores().first() {
        let actor = state.registry.probe(meta);
        ask(&actor, WatchSeq).await.map_err(|e: ApiError| format!("store {}: {e}", meta.info.slug))?;
    }
    Ok(())
}

/// Readiness: 200 when the database and store actors answer, else 503
/// with the reason. In a cluster, `broker` says whether the Redis broker
/// delivers (`up`) or the node reads other nodes' writes from the database
/// (`down`); a single node answers `null`.
#[utoipa::path(get, path = "/readyz", tag = "ops", security(()), responses((status = 200, description = "ready"), (status = 503, description = "not ready, with the reason")))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    // A node without its broker still serves and delivers (by reading the
    // database), so it stays ready; the answer says how it delivers.
    let broker = state.cluster.as_ref().map(|c| if c.broker_up() { "up" } else { "down" });
    match check(&state).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready", "broker": broker })),
        Err(reason) => {
            log::warn!(reason = reason.as_str(); "not ready");
            HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable", "reason": reason }))
        }
    }
}

/// Whether a `/metrics` request may be answered. With `--metrics-token`,
/// only its bearer may read; without one, only a loopback peer that is not
/// a proxy forwarding someone else (a `Forwarded`, `X-Forwarded-For` or
/// `X-Real-IP` header): the metrics name every store slug, and a reverse
/// proxy on the same host makes every client look local.
fn metrics_access(
    expected: Option<&str>,
    presented: Option<&str>,
    peer: Option<IpAddr>,
    forwarded: bool,
) -> Result<(), ApiError> {
    match expected {
        // Compare hashes, so the comparison time says nothing of the token.
        Some(expected) => match presented {
            Some(given) if crate::auth::token_hash(given) == crate::auth::token_hash(expected) => Ok(()),
            _ => Err(ApiError::Unauthenticated),
        },
        None if peer.is_some_and(|ip| ip.is_loopback()) && !forwarded => Ok(()),
        None => Err(ApiError::Forbidden(
            "metrics are served to loopback clients only; set --metrics-token to scrape from elsewhere".into(),
        )),
    }
}

/// Prometheus text format. With `--metrics-token`, needs
/// `Authorization: Bearer <token>`; without, answers loopback clients only.
#[utoipa::path(get, path = "/metrics", tag = "ops", security((), ("bearer" = [])), responses((status = 200, description = "Prometheus text exposition"),
    (status = 401, body = crate::error::ErrorBody, description = "--metrics-token is set and the request does not carry it"),
    (status = 403, body = crate::error::ErrorBody, description = "no --metrics-token, and the client is not on loopback (or came through a proxy)")))]
pub async fn metrics(state: web::Data<AppState>, req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    let headers = req.headers();
    let forwarded = ["forwarded", "x-forwarded-for", "x-real-ip"].iter().any(|h| headers.contains_key(*h));
    metrics_access(
        state.config.metrics_token.as_deref(),
        crate::auth::extract::bearer(&req),
        req.peer_addr().map(|a| a.ip()),
        forwarded,
    )?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render()))
}

/// The sync-health panel's data: samples of the last 15 minutes and the
/// alerts firing now.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct HealthReport {
    pub samples: Vec<crate::ops::health::Sample>,
    pub alerts: Vec<crate::ops::health::Alert>,
    /// Early warnings: thresholds the trends will cross soon.
    pub warnings: Vec<crate::ops::predict::Warning>,
    /// Succeeded over attempted deliveries since start.
    pub sync_success: f64,
    pub connections: i64,
}

fn require_any_admin(who: &crate::auth::Principal) -> Result<(), ApiError> {
    if who.is_admin || who.grants.values().any(|r| *r == crate::auth::Role::Admin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden("this needs an admin".into()))
    }
}

/// Sync health over the last 15 minutes (admins).
#[utoipa::path(get, path = "/api/v1/admin/health", tag = "admin",
    responses((status = 200, body = HealthReport), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn admin_health(
    state: web::Data<AppState>,
    who: crate::auth::Principal,
) -> Result<web::Json<HealthReport>, ApiError> {
    require_any_admin(&who)?;
    let (tried, ok, _) = state.metrics.delivery_totals();
    Ok(web::Json(HealthReport {
        samples: state.health.samples(),
        alerts: [state.health.alerts(), state.kpis.alerts(&who)].concat(),
        warnings: state.health.predictor.warnings(),
        sync_success: if tried == 0 { 1.0 } else { ok as f64 / tried as f64 },
        connections: state.metrics.ws_connections.get(),
    }))
}

/// Alerts firing now (admins).
#[utoipa::path(get, path = "/api/v1/admin/alerts", tag = "admin",
    responses((status = 200, body = Vec<crate::ops::health::Alert>), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn admin_alerts(
    state: web::Data<AppState>,
    who: crate::auth::Principal,
) -> Result<web::Json<Vec<crate::ops::health::Alert>>, ApiError> {
    require_any_admin(&who)?;
    Ok(web::Json([state.health.alerts(), state.kpis.alerts(&who)].concat()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_need_loopback_without_a_token_and_the_token_with_one() {
        let (local, remote): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "192.0.2.7".parse().unwrap());
        let v6_local: IpAddr = "::1".parse().unwrap();
        assert!(metrics_access(None, None, Some(local), false).is_ok());
        assert!(metrics_access(None, None, Some(v6_local), false).is_ok());
        let code = |r: Result<(), ApiError>| r.unwrap_err().code();
        assert_eq!(code(metrics_access(None, None, Some(remote), false)), "forbidden");
        assert_eq!(code(metrics_access(None, Some("guess"), Some(remote), false)), "forbidden");
        assert_eq!(code(metrics_access(None, None, Some(local), true)), "forbidden", "a proxy on this host");
        assert_eq!(code(metrics_access(None, None, None, false)), "forbidden");
        assert!(metrics_access(Some("s3cret"), Some("s3cret"), Some(remote), true).is_ok());
        assert_eq!(code(metrics_access(Some("s3cret"), None, Some(local), false)), "unauthenticated");
        assert_eq!(code(metrics_access(Some("s3cret"), Some("other"), Some(local), false)), "unauthenticated");
    }
}
