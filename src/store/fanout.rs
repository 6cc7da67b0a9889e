//! Fan-out: a store's subscribers and how committed events reach them.
//!
//! - **Flush window**: the first change after a quiet window is flushed at
//!   once (leading edge); later ones wait for the window to pass, so a busy
//!   store flushes at most once per window (`StoreActor::schedule_flush`).
//! - **Coalescing**: within a flush, events of the same entity merge (fields
//!   merged, latest wins); the batch's `from..to` still covers every seq, so
//!   coalesced-away seqs are not gaps.
//! - **Serialize once**: one `batch` frame per distinct topic set, one `page`
//!   frame per distinct view, shared (`Frame`) by every session, and so
//!   compressed once for all that negotiated compression (`wire::outbox`).
//!
//! Delivery per store is in seq order: every frame goes through the
//! session's FIFO outbox, pushed from this actor's single thread. Guarded by
//! `tests/ws_sync.rs`.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::index::PageShape;
use super::state::StoreState;
use crate::auth::Role;
use crate::model::{Event, EventKind, ProductPage, Seq, View};
use crate::ops::metrics::StoreCounters;
use crate::wire::outbox::{Delivery, Frame, Outbox, Pushed};
use crate::wire::protocol::{BatchBody, Presence, ServerFrame, Topic, Topics};

/// Shortest time between two presence frames of a store.
pub const PRESENCE_INTERVAL: Duration = Duration::from_secs(1);

/// One session's subscription to this store.
pub struct Subscriber {
    pub outbox: Outbox,
    pub role: Role,
    pub topics: Topics,
    pub view: View,
    /// Moves with `view.published`.
    pub follow: bool,
    /// The `to` of the last batch sent: the next one starts right after, so
    /// a subscriber whose topics skipped some flushes still sees no gap.
    pub sent_to: Seq,
}

/// A view's page during one flush.
struct ViewPage {
    shape: PageShape,
    /// Its rows, order or total differ from the last flush.
    changed: bool,
    frame: Option<Frame>,
}

/// Subscribers and the events not yet flushed to them.
pub struct Fanout {
    subscribers: HashMap<u64, Subscriber>,
    /// Subscribers by role, kept as they join and leave.
    presence: Presence,
    /// Subscribers of this store on the other nodes of a cluster.
    remote_presence: Presence,
    pending: Vec<Event>,
    /// When the oldest pending event committed (delivery latency).
    oldest_commit: Option<Instant>,
    counters: Arc<StoreCounters>,
    /// Test hook: skip every Nth batch frame (`--debug-drop-batch-every`).
    drop_every: Option<u64>,
    batches: u64,
    /// Highest seq delivered (or covered by a snapshot) to subscribers.
    pub flushed_seq: Seq,
    pages: HashMap<View, PageShape>,
    /// A subscriber left or changed its view since `pages` was pruned.
    views_changed: bool,
    presence_sent: Presence,
    presence_sent_at: Option<Instant>,
}

/// What events merge by (with an id for products).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Entity {
    Product,
    Dashboard,
    View,
}

/// Merges events of the same entity, keeping seq order by the latest seq.
pub fn coalesce(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Option<Event>> = Vec::with_capacity(events.len());
    let mut at: HashMap<(Entity, i64), usize> = HashMap::new();
    for event in events {
        let key = match event.kind {
            kind if kind.is_product() => Some((Entity::Product, event.entity_id.unwrap_or_default())),
            EventKind::DashboardUpdated => Some((Entity::Dashboard, 0)),
            EventKind::ViewPublished => Some((Entity::View, 0)),
            _ => None,
        };
        let merged = match key.and_then(|k| at.get(&k).copied()) {
            Some(i) => merge(out[i].take(), event),
            None => event,
        };
        if let Some(k) = key {
            at.insert(k, out.len());
        }
        out.push(Some(merged));
    }
    out.into_iter().flatten().collect()
}

/// The later of two events of one entity, carrying the earlier's fields it
/// did not change.
fn merge(earlier: Option<Event>, later: Event) -> Event {
    let Some(mut earlier) = earlier else {
        return later;
    };
    use EventKind::{DashboardUpdated, ProductCreated, ProductImageChanged, ProductUpdated};
    // Dashboard changes carry only what changed (a new day in full): they
    // merge like product updates.
    let mergeable = (matches!(earlier.kind, ProductCreated | ProductUpdated | ProductImageChanged)
        && matches!(later.kind, ProductUpdated | ProductImageChanged))
        || (earlier.kind == DashboardUpdated && later.kind == DashboardUpdated);
    if !mergeable {
        return later;
    }
    if let (Value::Object(base), Value::Object(fields)) = (&mut earlier.data, later.data) {
        base.extend(fields);
    }
    if earlier.kind != ProductCreated {
        earlier.kind = later.kind;
    }
    Event { seq: later.seq, at: later.at, by: later.by, ..earlier }
}

impl Fanout {
    /// An empty fan-out counting into `counters`.
    pub fn new(counters: Arc<StoreCounters>, drop_every: Option<u64>) -> Self {
        Self {
            subscribers: HashMap::new(),
            presence: Presence::default(),
            remote_presence: Presence::default(),
            pending: Vec::new(),
            oldest_commit: None,
            counters,
            drop_every,
            batches: 0,
            flushed_seq: 0,
            pages: HashMap::new(),
            views_changed: false,
            presence_sent: Presence::default(),
            presence_sent_at: None,
        }
    }

    /// Events committed since the last flush.
    pub fn push(&mut self, events: Vec<Event>) {
        self.oldest_commit.get_or_insert_with(Instant::now);
        self.pending.extend(events);
    }

    /// Whether a flush has something to send now.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() || self.presence_wait().is_some_and(|wait| wait.is_zero())
    }

    /// How long until changed presence counts may go out (at most one
    /// presence frame per `PRESENCE_INTERVAL`); `None` when unchanged.
    pub fn presence_wait(&self) -> Option<Duration> {
        (self.presence() != self.presence_sent)
            .then(|| self.presence_sent_at.map_or(Duration::ZERO, |at| PRESENCE_INTERVAL.saturating_sub(at.elapsed())))
    }

    /// Subscribers on every node.
    pub fn presence(&self) -> Presence {
        self.presence + self.remote_presence
    }

    /// Subscribers on this node.
    pub fn local_presence(&self) -> Presence {
        self.presence
    }

    /// Sets the subscribers the other nodes of a cluster reported.
    pub fn set_remote_presence(&mut self, remote: Presence) {
        self.remote_presence = remote;
    }

    fn count(&mut self, sub: &Subscriber, joined: bool) {
        let slots = [
            Some(match sub.role {
                Role::Admin => &mut self.presence.admins,
                Role::Editor => &mut self.presence.editors,
                Role::Viewer => &mut self.presence.viewers,
            }),
            sub.follow.then_some(&mut self.presence.followers),
        ];
        for slot in slots.into_iter().flatten() {
            *slot = if joined { *slot + 1 } else { slot.saturating_sub(1) };
        }
    }

    /// Adds (or replaces) a session's subscription.
    pub fn add(&mut self, sub: Subscriber) {
        self.remove(sub.outbox.session);
        self.count(&sub, true);
        self.subscribers.insert(sub.outbox.session, sub);
        self.counters.subscriptions.set(self.subscribers.len() as i64);
    }

    /// Drops a session's subscription.
    pub fn remove(&mut self, session: u64) -> Option<Subscriber> {
        let sub = self.subscribers.remove(&session)?;
        self.views_changed = true;
        self.count(&sub, false);
        self.counters.subscriptions.set(self.subscribers.len() as i64);
        Some(sub)
    }

    /// Whether nobody is subscribed.
    pub fn is_empty(&self) -> bool {
        self.subscribers.is_empty()
    }

    /// A session's subscription.
    pub fn get(&self, session: u64) -> Option<&Subscriber> {
        self.subscribers.get(&session)
    }

    /// A session's subscription, whose view the caller may change.
    pub fn get_mut(&mut self, session: u64) -> Option<&mut Subscriber> {
        self.views_changed = true;
        self.subscribers.get_mut(&session)
    }

    /// Every subscription, leaving the fan-out empty (store restart).
    pub fn drain(&mut self) -> Vec<Subscriber> {
        self.presence = Presence::default();
        self.counters.subscriptions.set(0);
        self.subscribers.drain().map(|(_, sub)| sub).collect()
    }

    /// Remembers the page a view shows now (sent to a new subscriber).
    pub fn remember_page(&mut self, state: &StoreState, page: &ProductPage) {
        self.pages.insert(page.view.clone(), state.products.shape(page.total, &page.rows));
    }

    /// Sends everything pending; returns the sessions that overflowed or
    /// went away, for the caller to drop.
    pub fn flush(&mut self, state: &StoreState) -> Vec<u64> {
        let slug = state.meta.info.slug.clone();
        let mut gone = Vec::new();
        let raw = std::mem::take(&mut self.pending);
        let reorders = raw.iter().any(|e| e.kind.is_product() || e.kind == EventKind::SalesUpdated);
        let published = raw
            .iter()
            .rev()
            .find(|e| e.kind == EventKind::ViewPublished)
            .and_then(|e| serde_json::from_value::<View>(e.data["view"].clone()).ok());
        self.send_batches(coalesce(raw), state.seq, &slug, &mut gone);
        let moved = self.move_followers(published);
        if reorders || !moved.is_empty() {
            self.send_pages(state, &moved, &slug, &mut gone);
        }
        self.send_presence(&slug, &mut gone);
        self.prune_pages();
        gone
    }

    /// One `batch` frame per distinct topic set and starting seq, covering
    /// `flushed_seq + 1 ..= to`.
    fn send_batches(&mut self, events: Vec<Event>, to: Seq, slug: &str, gone: &mut Vec<u64>) {
        let from = self.flushed_seq + 1;
        let delivery = Delivery {
            counters: self.counters.clone(),
            committed_at: self.oldest_commit.take().unwrap_or_else(Instant::now),
        };
        if !events.is_empty() {
            self.counters.flush_events.observe(events.len() as f64);
            // Subscribers with the same topics and the same last batch share a frame.
            let mut frames: HashMap<(Topics, Seq), Option<Frame>> = HashMap::new();
            for (id, sub) in &mut self.subscribers {
                let from = sub.sent_to.min(from - 1) + 1;
                let frame = frames.entry((sub.topics, from)).or_insert_with(|| {
                    let wanted = sub.topics.select(&events);
                    (!wanted.is_empty()).then(|| {
                        ServerFrame::Batch { store: slug, body: BatchBody::new(from, to, &wanted) }.encode().into()
                    })
                });
                let Some(frame) = frame else { continue };
                sub.sent_to = to;
                self.batches += 1;
                if self.drop_every.is_some_and(|n| n > 0 && self.batches.is_multiple_of(n)) {
                    continue;
                }
                self.counters.attempted.inc();
                if sub.outbox.deliver(frame.clone(), Some(delivery.clone()), slug) != Pushed::Queued {
                    self.counters.dropped.inc();
                    gone.push(*id);
                }
            }
        }
        self.flushed_seq = to.max(self.flushed_seq);
    }

    /// Moves followers to a published view; answers who moved.
    fn move_followers(&mut self, published: Option<View>) -> HashSet<u64> {
        let mut moved = HashSet::new();
        if let Some(view) = published {
            for (id, sub) in self.subscribers.iter_mut().filter(|(_, s)| s.follow) {
                sub.view = view.clone();
                moved.insert(*id);
                self.views_changed = true;
            }
        }
        moved
    }

    /// One shared `page` frame per view whose rows or order changed, also
    /// to followers that moved to a view. A view's page is brought forward
    /// from the changed rows (`ProductIndex::reshape`), once per view.
    fn send_pages(&mut self, state: &StoreState, moved: &HashSet<u64>, slug: &str, gone: &mut Vec<u64>) {
        let mut pages: HashMap<&View, ViewPage> = HashMap::new();
        for (id, sub) in &self.subscribers {
            if !sub.topics.has(Topic::Products) {
                continue;
            }
            let entry = pages.entry(&sub.view).or_insert_with(|| {
                let before = self.pages.get(&sub.view);
                let shape = match before {
                    Some(before) => state.products.reshape(&sub.view, before),
                    None => {
                        let page = state.page(&sub.view);
                        state.products.shape(page.total, &page.rows)
                    }
                };
                let changed = before.is_none_or(|b| (b.total, &b.ids) != (shape.total, &shape.ids));
                self.pages.insert(sub.view.clone(), shape.clone());
                ViewPage { shape, changed, frame: None }
            });
            if entry.changed || moved.contains(id) {
                let ViewPage { shape, frame, .. } = entry;
                let frame = frame.get_or_insert_with(|| {
                    let rows = shape.ids.iter().filter_map(|id| state.products.get(*id).cloned()).collect();
                    let page = ProductPage::new(state.seq, sub.view.clone(), shape.total, rows);
                    ServerFrame::Page { reference: None, store: slug, page: &page }.encode().into()
                });
                push_unless_gone(sub, *id, frame, slug, gone);
            }
        }
    }

    /// At most one presence frame per `PRESENCE_INTERVAL`: when thousands of
    /// clients connect, a frame per flush to every one of them would be
    /// quadratic.
    fn send_presence(&mut self, slug: &str, gone: &mut Vec<u64>) {
        if !self.presence_wait().is_some_and(|wait| wait.is_zero()) {
            return;
        }
        self.presence_sent = self.presence();
        self.presence_sent_at = Some(Instant::now());
        let frame = Frame::from(ServerFrame::Presence { store: slug, counts: self.presence_sent }.encode());
        for (id, sub) in self.subscribers.iter().filter(|(_, s)| s.topics.has(Topic::Presence)) {
            push_unless_gone(sub, *id, &frame, slug, gone);
        }
    }

    /// Views nobody watches any more need no memo (checked only after
    /// subscribers left or moved, not on every flush).
    fn prune_pages(&mut self) {
        if std::mem::take(&mut self.views_changed) {
            let watched: HashSet<&View> = self.subscribers.values().map(|s| &s.view).collect();
            self.pages.retain(|view, _| watched.contains(view));
        }
    }
}

/// Queues a frame unless the session already overflowed in this flush (it
/// has been told once); records it as gone when this push overflows.
fn push_unless_gone(sub: &Subscriber, id: u64, frame: &Frame, slug: &str, gone: &mut Vec<u64>) {
    if gone.contains(&id) {
        return;
    }
    if sub.outbox.push(frame.clone(), slug) != Pushed::Queued {
        gone.push(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use serde_json::json;

    use EventKind::*;

    fn event(seq: Seq, kind: EventKind, id: i64, data: Value) -> Event {
        Event { seq, kind, entity_id: Some(id), at: Utc::now(), by: "t".into(), data }
    }

    #[test]
    fn updates_of_one_product_merge_into_the_latest() {
        let out = coalesce(vec![
            event(1, ProductUpdated, 7, json!({"price": 1, "version": 2})),
            event(2, ProductUpdated, 8, json!({"price": 5, "version": 2})),
            event(3, ProductUpdated, 7, json!({"stock": 4, "version": 3})),
        ]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].seq, 2);
        assert_eq!(out[1].seq, 3);
        assert_eq!(out[1].data, json!({"price": 1, "stock": 4, "version": 3}));
    }

    #[test]
    fn a_created_product_stays_created_and_a_delete_wins() {
        let out = coalesce(vec![
            event(1, ProductCreated, 7, json!({"id": 7, "price": 1})),
            event(2, ProductUpdated, 7, json!({"price": 2})),
        ]);
        assert_eq!((out.len(), out[0].kind), (1, ProductCreated));
        assert_eq!(out[0].data, json!({"id": 7, "price": 2}));
        let out = coalesce(vec![event(1, ProductUpdated, 7, json!({})), event(2, ProductDeleted, 7, json!({"id": 7}))]);
        assert_eq!((out.len(), out[0].kind), (1, ProductDeleted));
    }

    #[test]
    fn sales_are_never_merged() {
        let out = coalesce(vec![event(1, SalesUpdated, 1, json!({})), event(2, SalesUpdated, 2, json!({}))]);
        assert_eq!(out.len(), 2);
    }
}
