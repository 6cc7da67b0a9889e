//! How a session joins a store: `subscribed`, then a snapshot or exactly the
//! events after `since` (from the history ring, else the `events` table,
//! else a snapshot when `since` is older than `max_replay` events), then the
//! live stream. Pending events are flushed first, so replay and live stream
//! meet at one seq with nothing missed and nothing twice.
//!
//! Guarded by `tests/ws_sync.rs` (resume cases).

use std::borrow::Cow;

use actix::prelude::*;
use chrono::Utc;

use super::actor::StoreActor;
use super::fanout::Subscriber;
use super::messages::{SetView, Subscribe, Unsubscribe};
use super::state::StoreState;
use crate::db;
use crate::error::ApiError;
use crate::model::{Event, ProductPage, Seq, View};
use crate::wire::outbox::Outbox;
use crate::wire::protocol::{error_frame, BatchBody, Mode, ServerFrame, Topic};

/// Events per replayed `batch` frame.
const REPLAY_CHUNK: usize = 500;

/// Queues the `subscribed` frame that opens a subscription at `state.seq`.
fn announce(state: &StoreState, msg: &Subscribe, mode: Mode) {
    let slug = &state.meta.info.slug;
    let frame = ServerFrame::Subscribed { reference: msg.reference.as_ref(), store: slug, seq: state.seq, mode };
    msg.outbox.push(frame.encode(), slug);
}

/// Queues `wanted`, the events after `since` a subscriber receives, as
/// `batch` frames up to `state.seq`, then, when `products` (the subscriber
/// holds a page), the page of `view`: the page sent, for the fan-out's memo.
pub(super) fn push_replay(
    state: &StoreState,
    outbox: &Outbox,
    since: Seq,
    wanted: &[Cow<Event>],
    products: bool,
    view: &View,
) -> Option<ProductPage> {
    let slug = &state.meta.info.slug;
    let mut from = since + 1;
    // Nothing wanted still moves the client to the live seq: one empty batch.
    let chunks: Vec<&[Cow<Event>]> =
        if wanted.is_empty() && since < state.seq { vec![&[]] } else { wanted.chunks(REPLAY_CHUNK).collect() };
    for (i, chunk) in chunks.iter().enumerate() {
        let last = i == chunks.len() - 1;
        let to = if last { state.seq } else { chunk[chunk.len() - 1].seq };
        let body = BatchBody::new(from, to, chunk);
        outbox.push(ServerFrame::Batch { store: slug, body }.encode(), slug);
        from = to + 1;
    }
    products.then(|| {
        let page = state.page(view);
        outbox.push(ServerFrame::Page { reference: None, store: slug, page: &page }.encode(), slug);
        page
    })
}

impl StoreActor {
    fn start_snapshot(&mut self, msg: Subscribe) {
        let Some(state) = self.state.as_ref() else {
            return;
        };
        let slug = &state.meta.info.slug;
        let snapshot = state.snapshot(&msg.view, Utc::now());
        announce(state, &msg, Mode::Snapshot);
        msg.outbox.push(ServerFrame::Snapshot { store: slug, snapshot: &snapshot }.encode(), slug);
        self.fanout.remember_page(state, &snapshot.page);
        self.join(msg);
    }

    fn start_replay(&mut self, msg: Subscribe, since: Seq, events: &[Event]) {
        let Some(state) = self.state.as_ref() else {
            return;
        };
        announce(state, &msg, Mode::Replay);
        let wanted = msg.topics.select(events);
        let products = msg.topics.has(Topic::Products);
        if let Some(page) = push_replay(state, &msg.outbox, since, &wanted, products, &msg.view) {
            self.fanout.remember_page(state, &page);
        }
        self.join(msg);
    }

    fn join(&mut self, msg: Subscribe) {
        let sent_to = self.state.as_ref().map_or(0, |s| s.seq);
        let sub = Subscriber {
            outbox: msg.outbox,
            role: msg.role,
            topics: msg.topics,
            view: msg.view,
            follow: msg.follow,
            sent_to,
        };
        self.fanout.add(sub);
    }
}

impl Handler<Subscribe> for StoreActor {
    type Result = ();

    fn handle(&mut self, msg: Subscribe, ctx: &mut Context<Self>) {
        if self.hibernating {
            // Handled as soon as the state is back, ahead of the mailbox.
            self.deferred.push(msg);
            self.wake(ctx);
            return;
        }
        self.subscribe(msg, ctx);
    }
}

impl StoreActor {
    pub(super) fn subscribe(&mut self, msg: Subscribe, ctx: &mut Context<Self>) {
        if self.state.is_none() {
            msg.outbox.push(error_frame(&ApiError::Unavailable, msg.reference.as_ref()), &self.meta.info.slug);
            return;
        }
        // Deliver what is pending first: the new subscriber starts at state.seq.
        self.flush();
        let seq = self.state.as_ref().map_or(0, |s| s.seq);
        if msg.since.is_some() {
            self.counters.resumed.inc();
        }
        match msg.since {
            Some(since) if (0..=seq).contains(&since) => {
                self.with_events_since(since, ctx, move |act, events| match events {
                    Some(events) => act.start_replay(msg, since, events),
                    None => act.start_snapshot(msg),
                });
            }
            _ => self.start_snapshot(msg),
        }
        self.schedule_flush(ctx);
    }
}

impl StoreActor {
    /// Hands `then` the events after `since` (at most the live seq): from
    /// the history ring, else the `events` table; `None` when they are more
    /// than `max_replay` or the read failed, for a snapshot instead.
    pub(super) fn with_events_since(
        &mut self,
        since: Seq,
        ctx: &mut Context<Self>,
        then: impl FnOnce(&mut Self, Option<&[Event]>) + 'static,
    ) {
        let seq = self.state.as_ref().map_or(0, |s| s.seq);
        if let Some(events) = self.state.as_ref().and_then(|s| s.history_since(since)) {
            then(self, Some(&events));
        } else if seq - since <= self.settings.max_replay {
            // Rare (a client far behind): hold the store's messages until
            // the read is done, so nothing commits in between.
            let store_id = self.meta.id;
            let read =
                db::blocking(&self.pool, move |conn| db::queries::events::since(conn, store_id, since, seq - since));
            ctx.wait(read.into_actor(self).map(move |events, act, _| match events {
                Ok(events) => then(act, Some(&events)),
                Err(e) => {
                    log::error!(error = e.detail().as_str(); "replay read failed; sending a snapshot");
                    then(act, None);
                }
            }));
        } else {
            then(self, None);
        }
    }
}

impl Handler<Unsubscribe> for StoreActor {
    type Result = ();

    fn handle(&mut self, msg: Unsubscribe, ctx: &mut Context<Self>) {
        if self.fanout.remove(msg.session).is_some() {
            self.schedule_flush(ctx);
        }
    }
}

impl Handler<SetView> for StoreActor {
    type Result = ();

    fn handle(&mut self, msg: SetView, _: &mut Context<Self>) {
        // The page memo below must describe what subscribers were sent.
        self.flush();
        let (Some(state), Some(sub)) = (self.state.as_ref(), self.fanout.get_mut(msg.session)) else {
            return;
        };
        let slug = &state.meta.info.slug;
        sub.view = msg.view;
        let page = state.page(&sub.view);
        sub.outbox
            .push(ServerFrame::Page { reference: msg.reference.as_ref(), store: slug, page: &page }.encode(), slug);
        self.fanout.remember_page(state, &page);
    }
}
