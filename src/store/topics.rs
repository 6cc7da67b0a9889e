//! Selective sync: a subscriber changes which topics stay live without
//! subscribing again (`set_topics`). Dropping topics takes effect at the
//! answer's seq; topics added with `since` (the seq at which they were
//! paused) catch up first: the events after `since` that the subscriber
//! missed (`Topics::select_added`) from the history ring or the `events`
//! table, else, past `max_replay`, a snapshot.
//!
//! Guarded by `tests/ws_topics.rs`.

use actix::prelude::*;
use chrono::Utc;

use super::actor::StoreActor;
use super::messages::SetTopics;
use super::subscribe::push_replay;
use crate::model::{Event, Seq};
use crate::wire::protocol::{Mode, ServerFrame, Topic, Topics};

impl Handler<SetTopics> for StoreActor {
    type Result = ();

    fn handle(&mut self, msg: SetTopics, ctx: &mut Context<Self>) {
        // Frames of the old topics up to the live seq go out first.
        self.flush();
        let (Some(state), Some(sub)) = (self.state.as_ref(), self.fanout.get_mut(msg.session)) else {
            return;
        };
        let old = std::mem::replace(&mut sub.topics, msg.topics);
        let (added, session) = (Topics(msg.topics.0 & !old.0), msg.session);
        match msg.since {
            Some(since) if added.0 != 0 && (0..state.seq).contains(&since) => {
                self.with_events_since(since, ctx, move |act, events| act.catch_up(msg, old, since, events));
            }
            _ => self.answer_topics(&msg, Mode::Live, None),
        }
        if added.has(Topic::Presence) {
            self.send_presence_to(session);
        }
    }
}

impl StoreActor {
    /// Queues the `topics` frame at the live seq.
    fn answer_topics(&self, msg: &SetTopics, mode: Mode, since: Option<Seq>) {
        let (Some(state), Some(sub)) = (self.state.as_ref(), self.fanout.get(msg.session)) else {
            return;
        };
        let slug = &state.meta.info.slug;
        let topics = msg.topics.list();
        let frame = ServerFrame::Topics {
            reference: msg.reference.as_ref(),
            store: slug,
            topics: &topics,
            seq: state.seq,
            mode,
            since,
        };
        sub.outbox.push(frame.encode(), slug);
    }

    /// Sends the added topics what they missed since `since`: the events
    /// (`mode: replay`), or a snapshot when there are too many.
    fn catch_up(&mut self, msg: SetTopics, old: Topics, since: Seq, events: Option<&[Event]>) {
        let Some(state) = self.state.as_ref() else {
            return;
        };
        let Some(sub) = self.fanout.get_mut(msg.session) else {
            return;
        };
        let slug = &state.meta.info.slug;
        sub.sent_to = state.seq;
        let (outbox, view) = (sub.outbox.clone(), sub.view.clone());
        let page = match events {
            Some(events) => {
                self.answer_topics(&msg, Mode::Replay, Some(since));
                let wanted = msg.topics.select_added(old, events);
                let products = msg.topics.has(Topic::Products) && !old.has(Topic::Products);
                push_replay(state, &outbox, since, &wanted, products, &view)
            }
            None => {
                self.answer_topics(&msg, Mode::Snapshot, Some(since));
                let snapshot = state.snapshot(&view, Utc::now());
                outbox.push(ServerFrame::Snapshot { store: slug, snapshot: &snapshot }.encode(), slug);
                Some(snapshot.page)
            }
        };
        if let Some(page) = page {
            self.fanout.remember_page(state, &page);
        }
    }

    /// The current presence counts, to one subscriber that just asked for them.
    fn send_presence_to(&self, session: u64) {
        let (Some(state), Some(sub)) = (self.state.as_ref(), self.fanout.get(session)) else {
            return;
        };
        let slug = &state.meta.info.slug;
        sub.outbox.push(ServerFrame::Presence { store: slug, counts: self.fanout.presence() }.encode(), slug);
    }
}
