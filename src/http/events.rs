//! `GET /stores/{store}/events?since=&limit=&wait=`: the history and audit
//! trail, and the fallback for clients that cannot hold a WebSocket. With
//! `wait`, it long-polls: it answers as soon as the store's seq passes
//! `since`, or empty after `wait` seconds. A long-poll re-checks its
//! credential and grant after waiting: revoked or logged out it answers
//! `401`, without the grant `404`, never the events. Guarded by
//! `tests/long_poll.rs`.

use std::time::Duration;

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ask, open_store};
use crate::app::AppState;
use crate::auth::extract::principal_by_hash;
use crate::auth::{Principal, Role};
use crate::db::{self, queries::events};
use crate::error::{ApiError, ErrorBody};
use crate::model::{Event, Seq};
use crate::store::messages::WatchSeq;

/// Most events one answer carries.
pub const MAX_EVENTS: i64 = 1000;
/// Longest long-poll, in seconds.
pub const MAX_WAIT_SECS: u64 = 60;

fn default_limit() -> i64 {
    100
}

/// Which events.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Answer events with a seq above this (default 0: from the start).
    #[serde(default)]
    #[param(minimum = 0)]
    pub since: Seq,
    /// At most this many (1-1000, default 100).
    #[serde(default = "default_limit")]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: i64,
    /// Seconds to wait for a new event when there is none (0-60).
    #[serde(default)]
    #[param(maximum = 60)]
    pub wait: u64,
}

/// A slice of the event history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsPage {
    pub events: Vec<Event>,
    /// The store's seq when answered.
    pub last_seq: Seq,
    /// Pass as `since` to continue.
    pub next_since: Seq,
}

/// Events after `since`, oldest first.
#[utoipa::path(get, path = "/api/v1/stores/{store}/events", tag = "events", params(("store" = String, Path, description = "store slug"), EventsQuery),
    responses((status = 200, body = EventsPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "no valid credential, also when it ended during a long-poll"),
        (status = 404, body = ErrorBody, description = "unknown or ungranted store, also when the grant was removed during a long-poll"), (status = 422, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    query: web::Query<EventsQuery>,
) -> Result<web::Json<EventsPage>, ApiError> {
    let store = open_store(&state, &who, &path, Role::Viewer)?;
    let EventsQuery { since, limit, wait } = query.into_inner();
    if since < 0 || !(1..=MAX_EVENTS).contains(&limit) || wait > MAX_WAIT_SECS {
        return Err(ApiError::invalid("query", format!("since >= 0, limit 1-{MAX_EVENTS}, wait 0-{MAX_WAIT_SECS}")));
    }
    let mut seq_rx = ask(&store.actor, WatchSeq).await?;
    if wait > 0 && *seq_rx.borrow() <= since {
        let deadline = tokio::time::sleep(Duration::from_secs(wait));
        tokio::pin!(deadline);
        while *seq_rx.borrow_and_update() <= since {
            tokio::select! {
                changed = seq_rx.changed() => if changed.is_err() { break },
                _ = &mut deadline => break,
            }
        }
        // The wait may have outlived the credential (logout, revocation,
        // expiry, password reset) or the grant: check both again, so that
        // nothing written after either ended is answered.
        let now = principal_by_hash(&state.pool, who.token_hash.clone()).await?;
        now.require(store.meta.id, &path, Role::Viewer)?;
    }
    let last_seq = *seq_rx.borrow();
    let store_id = store.meta.id;
    let events = db::blocking(&state.pool, move |conn| events::since(conn, store_id, since, limit)).await?;
    let next_since = events.last().map_or(since, |e| e.seq);
    Ok(web::Json(EventsPage { events, last_seq, next_since }))
}

/// Mounts the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stores/{store}/events", web::get().to(list));
}
