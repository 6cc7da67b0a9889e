//! `GET /ws`: authenticates the upgrade and starts a `SessionActor`, whose
//! outbox is the response body. Browsers authenticate with the session cookie, and then the
//! `Origin` must be an allowed one (cross-site WebSocket hijacking); other
//! clients send `?token=` or `Authorization: Bearer`.
//!
//! A socket counts against its principal's and its address's limits for as
//! long as its TCP connection lives, not as long as its session: the count
//! (`OpenSocket`) is kept in the connection's own data (`ConnectionSlots`,
//! put there by `on_connect`), which actix drops with the connection. A
//! session that stopped (heartbeat timeout, close) while its client does
//! not read used to give its place back at once, with the connection and
//! megabytes of unsent data still held; the connection itself is ended by
//! `--write-timeout-secs` (TCP_USER_TIMEOUT on the listener, see
//! `lib.rs`), because actix-http stops polling a response body whose
//! writes are stuck and so cannot be told to give up from the body.
//! Guarded by `tests/ws_hostile.rs`
//! (`a_socket_that_stops_reading_keeps_its_place_until_the_server_drops_it`).

use std::any::Any;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use actix::{Actor, AsyncContext};
use actix_http::BoxedPayloadStream;
use actix_web::dev::Extensions;
use actix_web::http::header::{HeaderValue, SEC_WEBSOCKET_EXTENSIONS};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, MessageStream};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::extract::{bearer, principal_for, SESSION_COOKIE};
use crate::config::Switch;
use crate::error::{ApiError, ErrorBody};
use crate::http::limits::OpenSocket;
use crate::session::SessionActor;
use crate::testkit::EvictionSink;
use crate::wire::deflate;
use crate::wire::frame_limit::{self, FrameLimit};
use crate::wire::inflate_stream::InflateStream;
use crate::wire::outbox::{Frame, Outbox, OutboxBody};

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// What a TCP connection holds until it is closed: the counts of the
/// WebSocket it was upgraded to.
#[derive(Default)]
pub struct ConnectionSlots(RefCell<Vec<OpenSocket>>);

/// Gives every new connection its `ConnectionSlots` (`HttpServer::on_connect`).
pub fn on_connect(_: &dyn Any, data: &mut Extensions) {
    data.insert(ConnectionSlots::default());
}

/// `?token=` for clients that cannot set headers on an upgrade.
#[derive(Debug, Deserialize)]
pub struct WsQuery {
    pub token: Option<String>,
}

/// Upgrades to the v1 sync protocol (see docs/protocol.md).
#[utoipa::path(get, path = "/ws", tag = "sync", params(("token" = Option<String>, Query, description = "bearer token, for clients that cannot send headers")),
    responses((status = 101, description = "switching to the WebSocket protocol"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "cookie with a foreign Origin"), (status = 429, body = ErrorBody, description = "too many connections for this principal")))]
pub async fn upgrade(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // The access log skips `/ws`: its line would only come when the socket
    // closes, and its state would be held until then. The upgrade is
    // logged here instead, when it is answered (never with its query).
    let opened = open(state, &req, body).await;
    match &opened {
        Ok(_) => log::info!(peer:? = req.peer_addr(); "GET /ws 101"),
        Err(e) => log::info!(peer:? = req.peer_addr(), code = e.code(); "GET /ws {}", e.status_code().as_u16()),
    }
    opened
}

async fn open(state: web::Data<AppState>, req: &HttpRequest, body: web::Payload) -> Result<HttpResponse, ApiError> {
    let query = web::Query::<WsQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::BadRequest(format!("invalid query string: {e}")))?
        .into_inner();
    let token = match (query.token.or_else(|| bearer(req).map(str::to_owned)), req.cookie(SESSION_COOKIE)) {
        (Some(token), _) => token,
        (None, Some(cookie)) => {
            if !state.authenticator.origin_allowed(req) {
                log::warn!("websocket refused: cookie with a foreign origin");
                return Err(ApiError::Forbidden("this Origin may not open a session with a cookie".into()));
            }
            cookie.value().to_owned()
        }
        (None, None) => return Err(ApiError::Unauthenticated),
    };
    let principal = principal_for(&state.pool, token).await?;
    let client = state.authenticator.trusted_proxies.client_ip(req);
    let socket = state.rate_limits.connect(&principal.name, client)?;
    // `run` installs `on_connect` for every listener.
    let slots =
        req.conn_data::<ConnectionSlots>().ok_or_else(|| ApiError::Internal("connection slots missing".into()))?;
    let (response, deflate_up_to, stream) = transport(&state, req, body).await?;
    let handles = state.sessions.clone();
    let body = OutboxBody::new(handles.limits.outbox_capacity, state.metrics.clone()).deflate_up_to(deflate_up_to);
    let queue = body.queue();
    let id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
    SessionActor::create(move |ctx| {
        let outbox = Outbox::new(id, queue, ctx.address().recipient());
        ctx.add_stream(stream);
        SessionActor::new(id, principal, handles, outbox)
    });
    // Only now that the upgrade is certain: a keep-alive connection whose
    // upgrade failed must not keep a place.
    slots.0.borrow_mut().push(socket);
    Ok(response.set_body(body).map_into_boxed_body())
}

/// The upgrade's transport, shared by `/ws` and the echo route: the 101
/// answer, the longest frame to send compressed (0 without compression),
/// and the client's frames.
async fn transport(
    state: &AppState,
    req: &HttpRequest,
    body: web::Payload,
) -> Result<(HttpResponse, usize, MessageStream), ApiError> {
    // permessage-deflate when the client offers it acceptably (wire/deflate.rs);
    // any other offer gets an uncompressed session.
    let offers = req.headers().get_all(SEC_WEBSOCKET_EXTENSIONS).filter_map(|v| v.to_str().ok());
    let agreed = deflate::negotiate(offers).filter(|_| state.config.ws_compression == Switch::On);
    // The client's bytes reach actix-ws through `FrameLimit`, which refuses
    // an oversized frame at its header instead of buffering its payload, and
    // then, compressed, through `InflateStream`.
    let max = state.config.max_frame_bytes;
    let limited: BoxedPayloadStream = match agreed {
        Some(_) => Box::pin(InflateStream::new(FrameLimit::new(body, max), max)),
        None => Box::pin(FrameLimit::new(body, max)),
    };
    let mut limited = actix_web::dev::Payload::from(limited);
    let body = web::Payload::from_request(req, &mut limited)
        .await
        .map_err(|e| ApiError::Internal(format!("wrapping the payload: {e}")))?;
    let (mut response, session, stream) =
        actix_ws::handle(req, body).map_err(|e| ApiError::BadRequest(format!("not a WebSocket upgrade: {e}")))?;
    // Frames leave through `OutboxBody`, not actix-ws's session channel (see wire/outbox.rs).
    drop(session);
    if let Some(agreed) = agreed {
        let answer = HeaderValue::from_str(&agreed.response()).map_err(|e| ApiError::Internal(e.to_string()))?;
        response.headers_mut().insert(SEC_WEBSOCKET_EXTENSIONS, answer);
    }
    // How long a frame may be to go out compressed (0: never).
    let deflate_up_to = agreed.map_or(0, |a| a.max_compressed());
    Ok((response, deflate_up_to, stream.max_frame_size(max)))
}

/// Test hook (`--test-echo-route`): `/ws-echo` sends every message back
/// over the same transport as `/ws` (limits, compression, outbox), without
/// credentials, for the Autobahn TestSuite (docs/autobahn.md). `404` when
/// off, as it must be in production.
pub async fn echo(state: web::Data<AppState>, req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ApiError> {
    if !state.config.test_echo_route {
        return Err(ApiError::NotFound("route".into()));
    }
    let (response, deflate_up_to, stream) = transport(&state, &req, body).await?;
    // The suite sends thousands of messages without reading: no eviction.
    let body = OutboxBody::new(1 << 20, state.metrics.clone()).deflate_up_to(deflate_up_to);
    let outbox = Outbox::new(0, body.queue(), EvictionSink.start().recipient());
    let mut stream = stream.aggregate_continuations().max_continuation_size(state.config.max_frame_bytes);
    actix_web::rt::spawn(async move {
        while let Some(message) = stream.next().await {
            match message {
                Ok(AggregatedMessage::Text(text)) => {
                    outbox.push(text, "");
                }
                Ok(AggregatedMessage::Binary(bytes)) => {
                    outbox.push(Frame::binary(bytes), "");
                }
                Ok(AggregatedMessage::Ping(payload)) => outbox.pong(payload),
                Ok(AggregatedMessage::Pong(_)) => {}
                Ok(AggregatedMessage::Close(reason)) => return outbox.close(reason),
                Err(e) => {
                    let code = match e {
                        e if frame_limit::is_overflow(&e) => 1009,
                        e if frame_limit::is_invalid_utf8(&e) => 1007,
                        _ => 1002,
                    };
                    return outbox.close(Some(CloseReason { code: CloseCode::from(code), description: None }));
                }
            }
        }
    });
    Ok(response.set_body(body).map_into_boxed_body())
}
