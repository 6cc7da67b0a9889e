//! `GET /healthz` (the process serves) and `GET /readyz` (the database
//! answers, migrations are applied, store actors answer).

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::{ask, AppState};
use crate::db;
use crate::error::ApiError;
use crate::store::messages::WatchSeq;

/// Liveness: 200 whenever the server runs.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "serving")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn check(state: &AppState) -> Result<(), String> {
    let current = db::blocking(&state.pool, db::migrations_current)
        .await
        .map_err(|e| format!("database: {e:?}"))?;
    if !current {
        return Err("migrations pending".into());
    }
    if let Some(meta) = state.registry.stores().first() {
        let actor = state.registry.actor(meta);
        ask(&actor, WatchSeq)
            .await
            .map_err(|e: ApiError| format!("store {}: {e}", meta.info.slug))?;
    }
    Ok(())
}

/// Readiness: 200 when the database and store actors answer, else 503
/// with the reason.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses((status = 200, description = "ready"), (status = 503, description = "not ready, with the reason")))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match check(&state).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(reason) => {
            log::warn!(reason = reason.as_str(); "not ready");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "reason": reason }))
        }
    }
}
