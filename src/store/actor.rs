//! `StoreActor`: the single writer of one store on this node. It holds the
//! live state, serves reads from it, and commits writes in groups: writes
//! that arrive while a commit is in flight wait in `pending` and go into the
//! next transaction together. Diesel runs on the blocking pool; the actor's
//! thread only moves data.
//!
//! Supervised: when a commit fails in the database, the actor stops, its
//! supervisor restarts it, `restarting` drops the live state and `started`
//! reloads it before any other message is handled (`ctx.wait`). Guarded by
//! `tests/seq.rs` and `tests/ws_sync.rs`.
//!
//! Reload (an operator's): the store is read again in the background while
//! the old state keeps answering reads, writes keep committing and their
//! batches keep being applied, to the old state and kept (`reload_held`).
//! Once the new state is built (off the actor's thread), the kept batches
//! past its seq are applied to it (those it was read with are skipped), it
//! replaces the old one, and the subscribers are told to resync as after a
//! restart. A gap repair waits for the new state. Guarded by
//! `tests/store_scale.rs`.
//!
//! Idle: on `Hibernate` (see `registry.rs`) a store with no subscribers and
//! nothing in flight drops its live state; `Wake` loads it again the same
//! way.
//!
//! In seq order: every committed batch, its own or another node's
//! (`Remote`), goes through `accept`, which applies it when it follows the
//! live state's seq and otherwise holds it in `ahead`. A gap the broker does
//! not fill within its grace (or that `CatchUp` reports) is repaired from
//! the database: the state at the database's seq and the events in between,
//! read in one snapshot (`repair`). A batch at or below the live seq is
//! dropped, so no event is applied twice.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::Utc;
use tokio::sync::{oneshot, watch};

use super::fanout::Fanout;
use super::messages::*;
use super::publish::Publish;
use super::state::{StoreMeta, StoreState};
use crate::db::queries::commit::{self, Target};
use crate::db::{self, DbPool};
use crate::error::ApiError;
use crate::model::bulk::{self, BulkReport, Selection, MAX_BULK_PRODUCTS};
use crate::model::change::{Applied, CommittedBatch, PendingChange};
use crate::model::{ProductId, Seq, View};
use crate::ops::metrics::{Metrics, StoreCounters};
use crate::wire::protocol::{error_frame, Presence, ServerFrame};

/// How long a batch past a gap waits for the batches before it, once this
/// node's own commit revealed the gap.
const GAP_GRACE: Duration = Duration::from_millis(300);

/// Tunables a store actor needs from the config, and the metrics it updates.
#[derive(Clone)]
pub struct StoreSettings {
    pub metrics: Arc<Metrics>,
    /// Test hook, see `Config::debug_drop_batch_every`.
    pub debug_drop_batch_every: Option<u64>,
    pub history_size: usize,
    pub max_batch: usize,
    pub flush_window: Duration,
    /// Most events a resume replays from the database; older `since`
    /// values get a snapshot.
    pub max_replay: i64,
    /// Where committed batches go besides the local fan-out.
    pub publish: Arc<dyn Publish>,
}

type Reply = oneshot::Sender<Result<Applied, ApiError>>;

/// One store's actor.
pub struct StoreActor {
    pub(super) meta: StoreMeta,
    pub(super) pool: DbPool,
    pub(super) settings: Arc<StoreSettings>,
    pub(super) state: Option<StoreState>,
    pub(super) fanout: Fanout,
    pub(super) counters: Arc<StoreCounters>,
    flush_timer: Option<SpawnHandle>,
    presence_timer: Option<SpawnHandle>,
    last_flush: Instant,
    pending: Vec<(PendingChange, Reply)>,
    committing: bool,
    /// A background reload is reading the store.
    reloading: bool,
    /// The batches applied since the reload began, for the new state.
    reload_held: Vec<CommittedBatch>,
    /// Bumped by every restart, so a reload begun before one is ignored.
    lifetime: u64,
    /// The live state was dropped for idleness (not lost to a failure).
    pub(super) hibernating: bool,
    /// Subscriptions that woke the store, joined once it has loaded.
    pub(super) deferred: Vec<Subscribe>,
    seq_tx: watch::Sender<Seq>,
    /// Committed batches past a gap, by their first seq.
    ahead: BTreeMap<Seq, CommittedBatch>,
    /// The highest seq known committed, by a batch or the database: the
    /// live state is behind while its seq is lower.
    known_seq: Seq,
    repair_timer: Option<SpawnHandle>,
    repairing: bool,
    /// The local presence last handed to `Publish`.
    presence_published: Presence,
    /// The store was deleted (`Retire`): the actor never loads again and
    /// lingers only until the last address of it is dropped.
    retired: bool,
}

impl StoreActor {
    /// A store actor that loads its state when started.
    pub fn new(meta: StoreMeta, pool: DbPool, settings: Arc<StoreSettings>) -> Self {
        let counters = Arc::new(settings.metrics.store(&meta.info.slug));
        Self {
            fanout: Fanout::new(counters.clone(), settings.debug_drop_batch_every),
            counters,
            meta,
            pool,
            settings,
            state: None,
            flush_timer: None,
            presence_timer: None,
            last_flush: Instant::now() - Duration::from_secs(60),
            pending: Vec::new(),
            committing: false,
            reloading: false,
            reload_held: Vec::new(),
            lifetime: 0,
            hibernating: false,
            deferred: Vec::new(),
            seq_tx: watch::Sender::new(0),
            ahead: BTreeMap::new(),
            known_seq: 0,
            repair_timer: None,
            repairing: false,
            presence_published: Presence::default(),
            retired: false,
        }
    }

    /// Reloads the live state if it was dropped for idleness. Requests
    /// routed by the registry are preceded by `Wake`; writes and
    /// subscriptions that reach a hibernating store another way wake it too.
    pub(super) fn wake(&mut self, ctx: &mut Context<Self>) {
        if std::mem::take(&mut self.hibernating) {
            self.load(ctx);
        }
    }

    /// A fan-out without subscribers (after a restart or hibernation).
    fn empty_fanout(&self) -> Fanout {
        Fanout::new(self.counters.clone(), self.settings.debug_drop_batch_every)
    }

    fn state(&self) -> Result<&StoreState, ApiError> {
        self.state.as_ref().ok_or(ApiError::Unavailable)
    }

    /// Reads the store and builds its live state, both off the actor's thread.
    fn read_state(&self) -> impl Future<Output = Result<StoreState, ApiError>> + 'static {
        let (meta, history) = (self.meta.clone(), self.settings.history_size);
        db::blocking(&self.pool, move |conn| {
            let loaded = db::queries::stores::load(conn, meta.id)?;
            Ok(StoreState::new(meta, loaded, history))
        })
    }

    /// Loads the live state; nothing else is handled until it is there.
    fn load(&mut self, ctx: &mut Context<Self>) {
        if self.retired {
            return;
        }
        self.ahead.clear();
        ctx.wait(self.read_state().into_actor(self).map(|loaded, act, ctx| match loaded {
            Ok(state) => act.install(state, ctx),
            Err(e) => {
                log::error!(store = act.meta.info.slug.as_str(), error = e.detail().as_str(); "store load failed; retrying");
                ctx.run_later(Duration::from_secs(1), |_, ctx| ctx.stop());
            }
        }));
    }

    /// Makes a state read from the database the live state, then applies
    /// the batches held for it and takes up the work that waited.
    fn install(&mut self, state: StoreState, ctx: &mut Context<Self>) {
        log::info!(store = self.meta.info.slug.as_str(), seq = state.seq, products = state.products.len(); "store loaded");
        self.seq_tx.send_replace(state.seq);
        self.known_seq = self.known_seq.max(state.seq);
        self.fanout.flushed_seq = state.seq;
        self.meta = state.meta.clone();
        if self.state.replace(state).is_none() {
            self.settings.metrics.stores_loaded.inc();
        }
        // Work that arrived while it hibernated.
        for subscribe in std::mem::take(&mut self.deferred) {
            self.subscribe(subscribe, ctx);
        }
        self.apply_ready(ctx);
        self.repair_if_behind(GAP_GRACE, ctx);
        self.commit_pending(ctx);
    }

    /// Reads the store again in the background (see the module doc).
    fn reload(&mut self, ctx: &mut Context<Self>) {
        if self.state.is_none() || self.reloading {
            return;
        }
        self.reloading = true;
        let lifetime = self.lifetime;
        ctx.spawn(self.read_state().into_actor(self).map(move |read, act, ctx| {
            if act.lifetime != lifetime || !std::mem::take(&mut act.reloading) {
                return;
            }
            let held = std::mem::take(&mut act.reload_held);
            match read {
                Ok(mut state) => {
                    for mut batch in held {
                        if batch.to > state.seq {
                            state.apply(&mut batch);
                        }
                    }
                    act.counters.restarts.inc();
                    log::info!(store = act.meta.info.slug.as_str(), from = act.live_seq(), to = state.seq; "store reloaded");
                    act.end_subscriptions("store_restart");
                    act.install(state, ctx);
                }
                Err(e) => {
                    log::error!(store = act.meta.info.slug.as_str(), error = e.detail().as_str(); "store reload failed; restarting store");
                    ctx.stop();
                }
            }
        }));
    }

    /// Starts the next group commit unless one is in flight.
    fn commit_pending(&mut self, ctx: &mut Context<Self>) {
        if self.committing || self.pending.is_empty() || self.state.is_none() {
            return;
        }
        let take = self.pending.len().min(self.settings.max_batch);
        let (batch, replies): (Vec<_>, Vec<_>) = self.pending.drain(..take).unzip();
        self.committing = true;
        let target = Target { store_id: self.meta.id, tz: self.meta.tz, archived: self.meta.info.archived };
        let writes = batch.len();
        let started = Instant::now();
        let fut = db::blocking(&self.pool, move |conn| commit::commit_batch(conn, target, &batch));
        ctx.spawn(fut.into_actor(self).map(move |result, act, ctx| {
            act.committing = false;
            let metrics = &act.settings.metrics;
            metrics.commit_seconds.observe(started.elapsed().as_secs_f64());
            metrics.group_commit_writes.observe(writes as f64);
            match result {
                Ok(results) => act.committed(results, replies, ctx),
                Err(e) => {
                    log::error!(store = act.meta.info.slug.as_str(), error = e.detail().as_str(); "group commit failed; restarting store");
                    for reply in replies {
                        let _ = reply.send(Err(ApiError::Unavailable));
                    }
                    ctx.stop();
                    return;
                }
            }
            act.commit_pending(ctx);
        }));
    }

    fn committed(&mut self, results: Vec<Result<Applied, ApiError>>, replies: Vec<Reply>, ctx: &mut Context<Self>) {
        if self.state.is_none() {
            return;
        }
        let mut results = results;
        let written = results.iter_mut().filter_map(|r| r.as_mut().ok());
        // The callers need only outcomes and seqs: events and effects move
        // into the batch.
        let batch = CommittedBatch::gather(self.meta.id, written);
        for (result, reply) in results.into_iter().zip(replies) {
            if result.is_ok() {
                self.settings.metrics.writes_committed.inc();
            }
            // The HTTP caller may have gone away; the write is committed anyway.
            let _ = reply.send(result);
        }
        if !batch.events.is_empty() {
            self.settings.publish.publish(&self.meta, &batch);
            self.accept(batch, GAP_GRACE, ctx);
        }
    }

    /// Applies a committed batch in seq order: now if it follows the live
    /// state, else once the batches before it arrived or were repaired
    /// (waiting at most `grace` for them). Batches already applied are
    /// dropped.
    fn accept(&mut self, batch: CommittedBatch, grace: Duration, ctx: &mut Context<Self>) {
        let Some(state) = self.state.as_ref() else {
            return;
        };
        if batch.to <= state.seq {
            return;
        }
        self.known_seq = self.known_seq.max(batch.to);
        self.ahead.insert(batch.from(), batch);
        self.apply_ready(ctx);
        self.repair_if_behind(grace, ctx);
    }

    /// The live seq (`Seq::MAX` without live state: nothing to apply).
    fn live_seq(&self) -> Seq {
        self.state.as_ref().map_or(Seq::MAX, |s| s.seq)
    }

    /// Applies the held batches that now follow the live state.
    fn apply_ready(&mut self, ctx: &mut Context<Self>) {
        while let Some((&from, next)) = self.ahead.first_key_value() {
            let seq = self.live_seq();
            if next.to > seq && from > seq + 1 {
                break;
            }
            let Some(batch) = self.ahead.remove(&from) else { break };
            if batch.to > seq {
                self.apply_batch(batch, ctx);
            }
        }
        if self.live_seq() >= self.known_seq {
            if let Some(timer) = self.repair_timer.take() {
                ctx.cancel_future(timer);
            }
        }
    }

    /// Repairs the gap after `wait` if the live state is behind, unless the
    /// broker fills it first or a repair is already due.
    fn repair_if_behind(&mut self, wait: Duration, ctx: &mut Context<Self>) {
        if self.live_seq() >= self.known_seq || self.repair_timer.is_some() || self.repairing || self.reloading {
            return;
        }
        self.repair_timer = Some(ctx.run_later(wait, |act, ctx| {
            act.repair_timer = None;
            act.repair(ctx);
        }));
    }

    /// Reads what the live state misses from the database: the store's
    /// state at the database's seq and the events since the live seq, in
    /// one snapshot. More missing events than a resume would replay
    /// restarts the store instead (its subscribers resync).
    fn repair(&mut self, ctx: &mut Context<Self>) {
        let Some(since) = self.state.as_ref().map(|s| s.seq) else {
            return;
        };
        self.repairing = true;
        let (store_id, limit) = (self.meta.id, self.settings.max_replay);
        let read = db::blocking(&self.pool, move |conn| db::queries::stores::load_after(conn, store_id, since, limit));
        ctx.spawn(read.into_actor(self).map(move |read, act, ctx| {
            act.repairing = false;
            if act.reloading {
                // The reload's state repairs it (`install` checks again).
                return;
            }
            let (loaded, events) = match read {
                Ok(read) => read,
                Err(e) => {
                    log::warn!(store = act.meta.info.slug.as_str(), error:% = e; "gap repair failed; retrying");
                    act.repair_if_behind(Duration::from_secs(1), ctx);
                    return;
                }
            };
            let Some(state) = act.state.as_mut() else {
                return;
            };
            if loaded.seq <= state.seq {
                act.apply_ready(ctx);
                act.repair_if_behind(GAP_GRACE, ctx);
                return;
            }
            if events.len() as i64 != loaded.seq - since {
                log::warn!(store = act.meta.info.slug.as_str(), from = since, to = loaded.seq; "gap too long to replay; restarting store");
                ctx.stop();
                return;
            }
            act.counters.gap_repairs.inc();
            let events = events.into_iter().filter(|e| e.seq > state.seq).collect();
            let batch = CommittedBatch { store_id, to: loaded.seq, events, effects: Vec::new() };
            state.replace(loaded);
            act.meta = state.meta.clone();
            act.known_seq = act.known_seq.max(batch.to);
            act.apply_batch(batch, ctx);
            act.apply_ready(ctx);
            act.repair_if_behind(GAP_GRACE, ctx);
        }));
    }

    /// Applies a committed batch to the live state and queues its events
    /// for the subscribers. A batch that archived the store is flushed at
    /// once, and then every subscription ends with `resync store_archived`.
    fn apply_batch(&mut self, mut batch: CommittedBatch, ctx: &mut Context<Self>) {
        let Some(state) = self.state.as_mut() else {
            return;
        };
        if self.reloading {
            self.reload_held.push(batch.clone());
        }
        let store_changed = batch.events.iter().any(|e| e.kind.is_store());
        state.apply(&mut batch);
        self.seq_tx.send_replace(state.seq);
        if store_changed {
            self.meta = state.meta.clone();
        }
        self.fanout.push(batch.events);
        if store_changed && self.meta.info.archived {
            self.flush();
            let seq = self.fanout.flushed_seq;
            self.end_subscriptions("store_archived");
            self.fanout.flushed_seq = seq;
            // Hands the emptied presence to the cluster.
            self.flush();
        }
        self.schedule_flush(ctx);
    }

    /// Ends every subscription: each subscriber gets `resync` with `reason`
    /// and its session forgets the store.
    fn end_subscriptions(&mut self, reason: &'static str) {
        let slug = self.meta.info.slug.clone();
        let resync = ServerFrame::Resync { store: &slug, reason }.encode();
        let fresh = self.empty_fanout();
        for sub in std::mem::replace(&mut self.fanout, fresh).drain() {
            sub.outbox.push(resync.clone(), &slug);
            sub.outbox.evict(&slug, reason);
            self.settings.metrics.resyncs.with_label_values(&[reason]).inc();
        }
    }

    /// Flushes now if the last flush is a window ago (leading edge), else
    /// once the window has passed. A presence change not yet due gets a
    /// timer of its own, so it is announced even if nothing is written.
    pub(super) fn schedule_flush(&mut self, ctx: &mut Context<Self>) {
        if self.state.is_none() {
            return;
        }
        if self.flush_timer.is_none() && self.fanout.has_pending() {
            let wait = self.settings.flush_window.saturating_sub(self.last_flush.elapsed());
            if wait.is_zero() {
                self.flush();
            } else {
                self.flush_timer = Some(ctx.run_later(wait, |act, ctx| {
                    act.flush_timer = None;
                    act.flush();
                    act.schedule_flush(ctx);
                }));
            }
        }
        if self.presence_timer.is_none() {
            if let Some(wait) = self.fanout.presence_wait().filter(|wait| !wait.is_zero()) {
                self.presence_timer = Some(ctx.run_later(wait, |act, ctx| {
                    act.presence_timer = None;
                    act.schedule_flush(ctx);
                }));
            }
        }
    }

    /// Sends everything pending to the subscribers now.
    pub(super) fn flush(&mut self) {
        let Some(state) = self.state.as_ref() else {
            return;
        };
        self.last_flush = Instant::now();
        for gone in self.fanout.flush(state) {
            self.fanout.remove(gone);
        }
        let local = self.fanout.local_presence();
        if local != self.presence_published {
            self.presence_published = local;
            self.settings.publish.presence(&self.meta, local);
        }
    }
}

impl Actor for StoreActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(4096);
        self.load(ctx);
    }
}

impl Supervised for StoreActor {
    fn restarting(&mut self, _ctx: &mut Context<Self>) {
        if self.retired {
            log::info!(store = self.meta.info.slug.as_str(); "store deleted: actor retired");
        } else {
            self.counters.restarts.inc();
            log::warn!(store = self.meta.info.slug.as_str(), restarts = self.counters.restarts.get(); "store actor restarting");
        }
        if self.state.take().is_some() {
            self.settings.metrics.stores_loaded.dec();
        }
        self.committing = false;
        self.reloading = false;
        self.reload_held.clear();
        self.lifetime += 1;
        self.hibernating = false;
        self.flush_timer = None;
        self.presence_timer = None;
        self.repair_timer = None;
        self.repairing = false;
        self.ahead.clear();
        if self.presence_published != Presence::default() {
            self.presence_published = Presence::default();
            self.settings.publish.presence(&self.meta, Presence::default());
        }
        self.end_subscriptions(if self.retired { "store_deleted" } else { "store_restart" });
        let slug = self.meta.info.slug.clone();
        for (_, reply) in self.pending.drain(..) {
            let _ = reply.send(Err(ApiError::Unavailable));
        }
        for subscribe in self.deferred.drain(..) {
            subscribe.outbox.push(error_frame(&ApiError::Unavailable, subscribe.reference.as_ref()), &slug);
        }
    }
}

impl Handler<Write> for StoreActor {
    type Result = ResponseFuture<Result<Applied, ApiError>>;

    fn handle(&mut self, msg: Write, ctx: &mut Context<Self>) -> Self::Result {
        if self.retired {
            return Box::pin(async { Err(ApiError::NotFound("store".into())) });
        }
        self.wake(ctx);
        let (tx, rx) = oneshot::channel();
        self.pending.push((msg.0, tx));
        self.commit_pending(ctx);
        Box::pin(async move { rx.await.unwrap_or(Err(ApiError::Unavailable)) })
    }
}

impl Handler<GetPage> for StoreActor {
    type Result = Result<crate::model::ProductPage, ApiError>;

    fn handle(&mut self, msg: GetPage, _: &mut Context<Self>) -> Self::Result {
        Ok(self.state()?.page(&msg.0))
    }
}

impl Handler<PlanBulk> for StoreActor {
    type Result = Result<(Vec<ProductId>, BulkReport), ApiError>;

    fn handle(&mut self, msg: PlanBulk, _: &mut Context<Self>) -> Self::Result {
        let state = self.state()?;
        let ids = match msg.selection {
            Selection::Ids(ids) => ids,
            Selection::Filter(view) => {
                let (total, ids) = state.products.page_ids(&View { page: 1, page_size: MAX_BULK_PRODUCTS, ..view });
                if total == 0 {
                    return Err(ApiError::invalid("filter", "the filter matches no product".into()));
                }
                bulk::check_count(total, "filter")?;
                ids
            }
        };
        let planned = bulk::plan(&msg.op, &ids, |id| state.products.get(id))?;
        Ok((ids, bulk::report(&planned, None, state.seq, true)))
    }
}

impl Handler<GetProduct> for StoreActor {
    type Result = Result<crate::model::Product, ApiError>;

    fn handle(&mut self, msg: GetProduct, _: &mut Context<Self>) -> Self::Result {
        self.state()?.products.get(msg.0).cloned().ok_or_else(|| ApiError::NotFound(format!("product {}", msg.0)))
    }
}

impl Handler<GetAllProducts> for StoreActor {
    type Result = Result<Vec<crate::model::Product>, ApiError>;

    fn handle(&mut self, _: GetAllProducts, _: &mut Context<Self>) -> Self::Result {
        Ok(self.state()?.products.iter().cloned().collect())
    }
}

impl Handler<GetSnapshot> for StoreActor {
    type Result = Result<crate::model::Snapshot, ApiError>;

    fn handle(&mut self, msg: GetSnapshot, _: &mut Context<Self>) -> Self::Result {
        Ok(self.state()?.snapshot(&msg.0, Utc::now()))
    }
}

impl Handler<GetDashboard> for StoreActor {
    type Result = Result<crate::model::Dashboard, ApiError>;

    fn handle(&mut self, _: GetDashboard, _: &mut Context<Self>) -> Self::Result {
        Ok(self.state()?.dashboard(Utc::now()))
    }
}

impl Handler<GetDaily> for StoreActor {
    type Result = Result<Vec<crate::model::DailyPoint>, ApiError>;

    fn handle(&mut self, msg: GetDaily, _: &mut Context<Self>) -> Self::Result {
        Ok(self.state()?.daily(msg.from, msg.to))
    }
}

impl Handler<GetSummary> for StoreActor {
    type Result = Result<crate::model::SalesSummary, ApiError>;

    fn handle(&mut self, _: GetSummary, _: &mut Context<Self>) -> Self::Result {
        Ok(self.state()?.summary(Utc::now()))
    }
}

impl Handler<GetSavedViews> for StoreActor {
    type Result = Result<Vec<crate::model::saved_view::SavedView>, ApiError>;

    fn handle(&mut self, _: GetSavedViews, _: &mut Context<Self>) -> Self::Result {
        Ok(self.state()?.saved_views.values().cloned().collect())
    }
}

impl Handler<WatchSeq> for StoreActor {
    type Result = Result<watch::Receiver<Seq>, ApiError>;

    fn handle(&mut self, _: WatchSeq, _: &mut Context<Self>) -> Self::Result {
        // A hibernating store still knows its seq: nothing commits without it.
        if !self.hibernating {
            self.state()?;
        }
        Ok(self.seq_tx.subscribe())
    }
}

impl Handler<Hibernate> for StoreActor {
    type Result = ();

    fn handle(&mut self, _: Hibernate, _: &mut Context<Self>) {
        let busy = !self.fanout.is_empty() || !self.pending.is_empty() || self.committing || self.reloading;
        if busy || self.flush_timer.is_some() || self.state.is_none() {
            return;
        }
        self.state = None;
        self.hibernating = true;
        self.fanout = self.empty_fanout();
        self.settings.metrics.stores_loaded.dec();
        log::info!(store = self.meta.info.slug.as_str(); "store idle: live state dropped until the next request");
    }
}

impl Handler<Wake> for StoreActor {
    type Result = ();

    fn handle(&mut self, _: Wake, ctx: &mut Context<Self>) {
        self.wake(ctx);
    }
}

impl Handler<Reload> for StoreActor {
    type Result = ();

    fn handle(&mut self, _: Reload, ctx: &mut Context<Self>) {
        self.reload(ctx);
    }
}

impl Handler<Retire> for StoreActor {
    type Result = ();

    fn handle(&mut self, _: Retire, ctx: &mut Context<Self>) {
        self.retired = true;
        ctx.stop();
    }
}

impl Handler<Remote> for StoreActor {
    type Result = ();

    fn handle(&mut self, msg: Remote, ctx: &mut Context<Self>) {
        // Another node's batch follows in a moment when this one is early.
        self.accept(msg.0, GAP_GRACE, ctx);
    }
}

impl Handler<CatchUp> for StoreActor {
    type Result = ();

    fn handle(&mut self, msg: CatchUp, ctx: &mut Context<Self>) {
        if self.state.is_some() {
            self.known_seq = self.known_seq.max(msg.seq);
            self.repair_if_behind(msg.grace, ctx);
        }
    }
}

impl Handler<RemotePresence> for StoreActor {
    type Result = ();

    fn handle(&mut self, msg: RemotePresence, ctx: &mut Context<Self>) {
        self.fanout.set_remote_presence(msg.0);
        self.schedule_flush(ctx);
    }
}
