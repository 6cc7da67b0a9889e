//! `SessionActor`: one per WebSocket. It reads client frames (actix-ws
//! stream), checks each against the principal's grants and the session's
//! limits, and talks to store actors; frames go out through the bounded
//! `Outbox` that the response body drains (`queue.rs`). It pings every heartbeat and
//! closes a client that stays silent for two.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_ws::{CloseCode, CloseReason, Message, ProtocolError};
use bytestring::ByteString;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::Value;

use crate::auth::extract::principal_by_hash;
use crate::auth::{GrantedStore, Principal, Role};
use crate::db::DbPool;
use crate::error::ApiError;
use crate::model::change::{Change, PendingChange};
use crate::model::saved_view::check_view_name;
use crate::ops::metrics::Metrics;
use crate::store::messages::{GetDigest, SetTopics, SetView, Subscribe, Unsubscribe, Write};
use crate::store::write_limit::WriteLimit;
use crate::store::{StoreActor, StoreMeta, StoreRegistry};
use crate::wire::frame_limit;
use crate::wire::outbox::{Evicted, Outbox, SLOW_CONSUMER};
use crate::wire::protocol::{
    self, error_frame, ClientFrame, DigestBody, PublishBody, ServerFrame, SetTopicsBody, SubscribeBody, Topics,
    ViewBody,
};

/// Close code for a client that broke the protocol too often or flooded.
pub const CLOSE_ABUSE: u16 = 1008;
/// Close code for a client that missed its heartbeats.
pub const CLOSE_HEARTBEAT: u16 = 4000;
/// Close code for a session whose credential was revoked or expired.
pub const CLOSE_REVOKED: u16 = 4001;

/// Limits a session enforces.
#[derive(Debug, Clone)]
pub struct SessionLimits {
    pub heartbeat: Duration,
    pub outbox_capacity: usize,
    pub max_subscriptions: usize,
    /// Client frames per second, sustained.
    pub frames_per_sec: NonZeroU32,
    /// Refused frames before the socket is closed.
    pub max_strikes: u32,
    /// How often the credential and grants are re-checked.
    pub revalidate: Duration,
}

/// What every session uses, shared by all of them: its limits, the stores
/// and the write budget they share with REST, the metrics it counts into,
/// and the database for credential re-checks.
pub struct SessionHandles {
    pub limits: SessionLimits,
    pub registry: StoreRegistry,
    pub writes: Arc<WriteLimit>,
    pub metrics: Arc<Metrics>,
    pub pool: DbPool,
}

/// One WebSocket client.
pub struct SessionActor {
    id: u64,
    principal: Principal,
    handles: Arc<SessionHandles>,
    outbox: Outbox,
    subscriptions: HashMap<String, Addr<StoreActor>>,
    last_heard: Instant,
    strikes: u32,
    limiter: DefaultDirectRateLimiter,
    close: Option<CloseReason>,
    /// The store list the client was last sent (`hello`, `stores`).
    stores_sent: Vec<GrantedStore>,
}

/// The store registry's catalog changed.
#[derive(actix::Message)]
#[rtype(result = "()")]
struct CatalogChanged;

impl SessionActor {
    /// A session for `principal` whose frames go to `outbox`.
    pub fn new(id: u64, principal: Principal, handles: Arc<SessionHandles>, outbox: Outbox) -> Self {
        // Bursts of up to two seconds' worth of frames pass.
        let burst = handles.limits.frames_per_sec.saturating_mul(NonZeroU32::MIN.saturating_add(1));
        let quota = Quota::per_second(handles.limits.frames_per_sec).allow_burst(burst);
        Self {
            id,
            principal,
            handles,
            outbox,
            subscriptions: HashMap::new(),
            last_heard: Instant::now(),
            strikes: 0,
            limiter: RateLimiter::direct(quota),
            close: None,
            stores_sent: Vec::new(),
        }
    }

    fn send(&self, frame: ByteString) {
        self.outbox.push(frame, "");
    }

    fn close_with(&mut self, code: u16, reason: &str, ctx: &mut Context<Self>) {
        log::warn!(session = self.id, user = self.principal.username.as_str(), code, reason; "closing websocket");
        self.close = Some(CloseReason { code: CloseCode::from(code), description: Some(reason.to_owned()) });
        ctx.stop();
    }

    /// Answers a refused frame; closes the socket after too many.
    fn refuse(&mut self, error: ApiError, reference: Option<&Value>, ctx: &mut Context<Self>) {
        self.handles.metrics.errors.with_label_values(&[error.code()]).inc();
        self.send(error_frame(&error, reference));
        self.strikes += 1;
        if self.strikes >= self.handles.limits.max_strikes {
            self.close_with(CLOSE_ABUSE, "too many refused frames", ctx);
        }
    }

    fn on_text(&mut self, text: &str, ctx: &mut Context<Self>) {
        if self.limiter.check().is_err() {
            self.handles.metrics.rate_limited.with_label_values(&["ws_frames"]).inc();
            self.refuse(ApiError::RateLimited { retry_after_secs: 1 }, None, ctx);
            return;
        }
        let incoming = match protocol::parse(text) {
            Ok(incoming) => incoming,
            Err(refused) => return self.refuse(refused.error, refused.id.as_ref(), ctx),
        };
        let reference = incoming.id;
        let result = match incoming.frame {
            ClientFrame::Ping => {
                self.send(ServerFrame::Pong { reference: reference.as_ref() }.encode());
                Ok(())
            }
            ClientFrame::Subscribe(body) => self.subscribe(body, reference.clone(), None, ctx),
            ClientFrame::SwitchStore(body) => {
                let leaving: Vec<String> = self.subscriptions.keys().filter(|s| **s != body.store).cloned().collect();
                self.subscribe(body, reference.clone(), Some(leaving), ctx)
            }
            ClientFrame::Unsubscribe(body) => self.unsubscribe(&body.store, reference.clone()),
            ClientFrame::SetView(body) => self.set_view(body, reference.clone()),
            ClientFrame::PublishView(body) => self.publish_view(body, reference.clone(), ctx),
            ClientFrame::Digest(body) => self.digest(body, reference.clone()),
            ClientFrame::SetTopics(body) => self.set_topics(body, reference.clone()),
        };
        if let Err(error) = result {
            self.refuse(error, reference.as_ref(), ctx);
        }
    }

    fn open(&self, slug: &str, needed: Role) -> Result<(Arc<StoreMeta>, Role), ApiError> {
        let meta = self.handles.registry.meta(slug)?;
        let role = self.principal.require(meta.id, slug, needed)?;
        meta.check_open(role, needed)?;
        Ok((meta, role))
    }

    /// The stores the principal may use now, with its role in each
    /// (archived ones only where it is an admin), as `hello` and `stores`
    /// list them.
    fn visible_stores(&self) -> Vec<GrantedStore> {
        self.handles.registry.granted(&self.principal)
    }

    /// Sends the store list again if it changed since it was last sent.
    fn announce_stores(&mut self) {
        let stores = self.visible_stores();
        if stores != self.stores_sent {
            self.send(ServerFrame::Stores { stores: &stores }.encode());
            self.stores_sent = stores;
        }
    }

    /// Subscribes to a store; `leaving` stores are left first (switch_store),
    /// and only once they confirmed is the new subscription sent, so no frame
    /// of a left store follows the new `subscribed`.
    fn subscribe(
        &mut self,
        body: SubscribeBody,
        reference: Option<Value>,
        leaving: Option<Vec<String>>,
        ctx: &mut Context<Self>,
    ) -> Result<(), ApiError> {
        let (meta, role) = self.open(&body.store, Role::Viewer)?;
        let view = body.view.clone().unwrap_or_default();
        view.validate()?;
        if let Some(resync) = body.resync {
            self.handles.metrics.resyncs.with_label_values(&[resync.reason()]).inc();
        }
        let rejoining = self.subscriptions.contains_key(&body.store);
        let after_leaving = self.subscriptions.len() - leaving.as_ref().map_or(0, Vec::len);
        if !rejoining && after_leaving >= self.handles.limits.max_subscriptions {
            return Err(ApiError::Limit(format!(
                "at most {} subscriptions per session",
                self.handles.limits.max_subscriptions
            )));
        }
        let store = self.handles.registry.actor(&meta);
        let mut departures: Vec<Addr<StoreActor>> =
            leaving.unwrap_or_default().iter().filter_map(|slug| self.subscriptions.remove(slug)).collect();
        if let Some(previous) = self.subscriptions.remove(&body.store) {
            departures.push(previous);
        }
        self.subscriptions.insert(body.store.clone(), store.clone());
        let subscribe = Subscribe {
            outbox: self.outbox.clone(),
            role,
            since: body.since,
            topics: Topics::of(body.topics.as_deref()),
            view,
            follow: body.follow,
            reference,
        };
        let session = self.id;
        let left = async move {
            for addr in departures {
                let _ = addr.send(Unsubscribe { session }).await;
            }
        };
        // Client frames are handled in order: wait until the switch is done.
        ctx.wait(left.into_actor(self).map(move |_, _, _| store.do_send(subscribe)));
        Ok(())
    }

    fn unsubscribe(&mut self, slug: &str, reference: Option<Value>) -> Result<(), ApiError> {
        let store =
            self.subscriptions.remove(slug).ok_or_else(|| ApiError::NotFound(format!("subscription to {slug}")))?;
        store.do_send(Unsubscribe { session: self.id });
        self.send(ServerFrame::Unsubscribed { reference: reference.as_ref(), store: slug }.encode());
        Ok(())
    }

    fn subscription(&self, slug: &str) -> Result<&Addr<StoreActor>, ApiError> {
        self.subscriptions.get(slug).ok_or_else(|| ApiError::NotFound(format!("subscription to {slug}")))
    }

    fn set_view(&mut self, body: ViewBody, reference: Option<Value>) -> Result<(), ApiError> {
        body.view.validate()?;
        self.subscription(&body.store)?.do_send(SetView { session: self.id, view: body.view, reference });
        Ok(())
    }

    fn digest(&mut self, body: DigestBody, reference: Option<Value>) -> Result<(), ApiError> {
        self.subscription(&body.store)?.do_send(GetDigest { session: self.id, seq: body.seq, reference });
        Ok(())
    }

    fn set_topics(&mut self, body: SetTopicsBody, reference: Option<Value>) -> Result<(), ApiError> {
        if body.topics.is_empty() {
            return Err(ApiError::invalid("topics", "name at least one topic to keep live".into()));
        }
        let topics = Topics::of(Some(&body.topics));
        self.subscription(&body.store)?.do_send(SetTopics { session: self.id, topics, since: body.since, reference });
        Ok(())
    }

    fn publish_view(
        &mut self,
        body: PublishBody,
        reference: Option<Value>,
        ctx: &mut Context<Self>,
    ) -> Result<(), ApiError> {
        let (meta, _) = self.open(&body.store, Role::Editor)?;
        let change = match (body.view, body.name) {
            (Some(view), None) => {
                view.validate()?;
                Change::PublishView { view }
            }
            (None, Some(name)) => {
                check_view_name(&name)?;
                Change::PublishSavedView { name }
            }
            _ => return Err(ApiError::invalid("view", "publish_view takes a view or a saved view's name".into())),
        };
        // A published view is a durable write: it spends the principal's
        // write budget like a REST write.
        self.handles.writes.check(&self.principal.name).inspect_err(|_| {
            self.handles.metrics.rate_limited.with_label_values(&["ws_writes"]).inc();
        })?;
        let store = self.handles.registry.actor(&meta);
        let write = Write(PendingChange { by: self.principal.name.clone(), idempotency: None, change });
        let fut = async move { store.send(write).await.map_err(|_| ApiError::Unavailable).and_then(|r| r) };
        ctx.spawn(fut.into_actor(self).map(move |result, act, ctx| {
            if let Err(error) = result {
                act.refuse(error, reference.as_ref(), ctx);
            }
        }));
        Ok(())
    }

    /// Re-checks the credential: closes the socket when it was revoked or
    /// expired, ends subscriptions whose grant was removed.
    fn revalidate(&mut self, ctx: &mut Context<Self>) {
        let (handles, hash) = (self.handles.clone(), self.principal.token_hash.clone());
        let check = async move { principal_by_hash(&handles.pool, hash).await };
        ctx.spawn(check.into_actor(self).map(|result, act, ctx| match result {
            Err(ApiError::Unauthenticated) => act.close_with(CLOSE_REVOKED, "credentials revoked or expired", ctx),
            Err(e) => log::warn!(session = act.id, error = e.detail().as_str(); "credential re-check failed; keeping the session"),
            Ok(principal) => {
                let lost: Vec<String> = act
                    .subscriptions
                    .keys()
                    .filter(|slug| act.handles.registry.meta(slug).map_or(true, |m| principal.role(m.id).is_none()))
                    .cloned()
                    .collect();
                for slug in lost {
                    if let Some(store) = act.subscriptions.remove(&slug) {
                        store.do_send(Unsubscribe { session: act.id });
                    }
                    act.send(ServerFrame::Resync { store: &slug, reason: "access_revoked" }.encode());
                    act.handles.metrics.resyncs.with_label_values(&["access_revoked"]).inc();
                }
                act.principal = principal;
                act.announce_stores();
            }
        }));
    }

    fn heartbeat(&mut self, ctx: &mut Context<Self>) {
        if self.last_heard.elapsed() > self.handles.limits.heartbeat * 2 {
            self.close_with(CLOSE_HEARTBEAT, "heartbeat timeout", ctx);
        } else {
            self.outbox.ping();
        }
    }
}

impl Actor for SessionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        log::info!(session = self.id, user = self.principal.username.as_str(); "websocket open");
        self.handles.metrics.ws_connections.inc();
        let stores = self.visible_stores();
        let hello = ServerFrame::Hello {
            v: protocol::VERSION,
            session: self.id,
            user: &self.principal.username,
            stores: &stores,
            heartbeat_ms: self.handles.limits.heartbeat.as_millis() as u64,
        };
        self.send(hello.encode());
        self.stores_sent = stores;
        // A changed catalog is checked with fresh grants: a store's creator
        // holds a grant the principal read at connect does not have.
        let changes = futures_util::stream::unfold(self.handles.registry.changes(), |mut rx| async move {
            rx.changed().await.ok()?;
            Some((CatalogChanged, rx))
        });
        ctx.add_message_stream(changes);
        ctx.run_interval(self.handles.limits.heartbeat, Self::heartbeat);
        ctx.run_interval(self.handles.limits.revalidate, Self::revalidate);
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.handles.metrics.ws_connections.dec();
        for store in self.subscriptions.values() {
            store.do_send(Unsubscribe { session: self.id });
        }
        self.outbox.close(self.close.take());
        log::info!(session = self.id, user = self.principal.username.as_str(); "websocket closed");
    }
}

impl StreamHandler<Result<Message, ProtocolError>> for SessionActor {
    fn handle(&mut self, msg: Result<Message, ProtocolError>, ctx: &mut Context<Self>) {
        self.last_heard = Instant::now();
        match msg {
            Ok(Message::Text(text)) => self.on_text(&text, ctx),
            Ok(Message::Binary(_)) | Ok(Message::Continuation(_)) => {
                self.refuse(ApiError::BadRequest("binary frames are not supported; send JSON text".into()), None, ctx)
            }
            Ok(Message::Ping(payload)) => {
                self.outbox.pong(payload);
            }
            Ok(Message::Pong(_)) | Ok(Message::Nop) => {}
            Ok(Message::Close(_)) => ctx.stop(),
            Err(e) if frame_limit::is_overflow(&e) => {
                self.send(error_frame(&ApiError::Limit("frame exceeds the size limit".into()), None));
                self.close_with(1009, "frame too large", ctx);
            }
            Err(e) if frame_limit::is_invalid_utf8(&e) => self.close_with(1007, "text frame is not UTF-8", ctx),
            Err(e) => {
                log::warn!(session = self.id, error:% = e; "websocket protocol error");
                self.close_with(1002, "protocol error", ctx);
            }
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl Handler<CatalogChanged> for SessionActor {
    type Result = ();

    fn handle(&mut self, _: CatalogChanged, ctx: &mut Context<Self>) {
        self.revalidate(ctx);
    }
}

impl Handler<Evicted> for SessionActor {
    type Result = ();

    fn handle(&mut self, msg: Evicted, _: &mut Context<Self>) {
        if msg.reason != SLOW_CONSUMER {
            // The store already queued its `resync`.
            self.subscriptions.remove(&msg.store);
            return;
        }
        log::warn!(session = self.id, store = msg.store.as_str(); "slow consumer: queue dropped, resync sent");
        // Every store the client follows starts over; a store it no longer
        // follows (left, or already resynced by an earlier eviction) needs
        // no frame, and earlier resyncs stay queued (`replace_queue`).
        let stores: Vec<String> = self
            .subscriptions
            .drain()
            .map(|(slug, addr)| {
                addr.do_send(Unsubscribe { session: self.id });
                slug
            })
            .collect();
        let frames = stores.iter().map(|s| ServerFrame::Resync { store: s, reason: SLOW_CONSUMER }.encode()).collect();
        self.handles.metrics.resyncs.with_label_values(&[SLOW_CONSUMER]).inc_by(stores.len() as u64);
        self.outbox.replace_queue(frames);
    }
}
