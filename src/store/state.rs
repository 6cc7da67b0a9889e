//! `StoreState`: one store's live state as its actor holds it, and the
//! reads served from it. Plain data and methods, no actor, so it is tested
//! directly. It changes only through `apply`, after the database committed.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::index::ProductIndex;
use crate::auth::Role;
use crate::db::queries::stores::LoadedStore;
use crate::error::ApiError;
use crate::model::change::{CommittedBatch, Effect};
use crate::model::digest::{self, StoreDigest};
use crate::model::saved_view::SavedView;
use crate::model::{
    DailyPoint, Dashboard, DashboardSettings, Event, Product, ProductPage, SalesSummary, Seq, Snapshot, StoreId,
    StoreInfo, Totals, View,
};

/// What identifies a store (`id`, the slug) and its settings; the
/// settings change only by committed store changes (`Effect::Store`).
#[derive(Debug, Clone)]
pub struct StoreMeta {
    pub id: StoreId,
    pub info: StoreInfo,
    pub tz: Tz,
}

impl StoreMeta {
    /// Refuses what an archived store does not allow: it is read-only, and
    /// readable only by its admins (`store_archived`).
    pub fn check_open(&self, role: Role, needed: Role) -> Result<(), ApiError> {
        if self.info.archived && (needed > Role::Viewer || role < Role::Admin) {
            return Err(ApiError::StoreArchived);
        }
        Ok(())
    }

    /// Takes a store's settings as committed; a time zone this build does
    /// not know (never written by us) keeps the one it had.
    pub fn take(&mut self, info: StoreInfo) {
        self.tz = info.time_zone.parse().unwrap_or(self.tz);
        self.info = info;
    }
}

/// A store's live state.
pub struct StoreState {
    pub meta: StoreMeta,
    pub seq: Seq,
    pub products: ProductIndex,
    pub settings: DashboardSettings,
    pub days: BTreeMap<NaiveDate, DailyPoint>,
    /// Saved views, by name.
    pub saved_views: BTreeMap<String, SavedView>,
    /// The most recent events, for resume without a database read.
    pub history: VecDeque<Event>,
    history_size: usize,
    /// `digest::products_digest` of `products`, kept per change.
    products_digest: u32,
    /// The digests at the most recent seqs, oldest first (`digest_at`).
    digests: VecDeque<StoreDigest>,
}

/// Digests `digest_at` remembers: enough for a client a few flushes behind.
const DIGESTS_KEPT: usize = 64;

impl StoreState {
    /// Builds the state from what the database holds.
    pub fn new(mut meta: StoreMeta, loaded: LoadedStore, history_size: usize) -> Self {
        meta.take(loaded.info);
        let products_digest = digest::products_digest(&loaded.products);
        let mut state = Self {
            meta,
            seq: loaded.seq,
            products: ProductIndex::new(loaded.products),
            settings: loaded.settings,
            days: loaded.days,
            saved_views: loaded.saved_views.into_iter().map(|v| (v.name.clone(), v)).collect(),
            history: VecDeque::with_capacity(history_size.min(1024)),
            history_size,
            products_digest,
            digests: VecDeque::with_capacity(DIGESTS_KEPT),
        };
        state.remember_digest();
        state
    }

    /// Takes the products, settings and days of a newer read of the store
    /// (gap repair); the events in between are applied after, so history
    /// and seq move with them.
    pub fn replace(&mut self, loaded: LoadedStore) {
        self.meta.take(loaded.info);
        self.products_digest = digest::products_digest(&loaded.products);
        self.products.replace(loaded.products);
        self.settings = loaded.settings;
        self.days = loaded.days;
        self.saved_views = loaded.saved_views.into_iter().map(|v| (v.name.clone(), v)).collect();
    }

    /// Applies a committed write: its effects (taken out of `applied`), its
    /// events, its seq.
    pub fn apply(&mut self, batch: &mut CommittedBatch) {
        for effect in std::mem::take(&mut batch.effects) {
            match effect {
                Effect::UpsertProduct(p) => {
                    if let Some(old) = self.products.get(p.id) {
                        self.products_digest = self.products_digest.wrapping_sub(digest::row_hash(old.id, old.version));
                    }
                    self.products_digest = self.products_digest.wrapping_add(digest::row_hash(p.id, p.version));
                    self.products.upsert(p);
                }
                Effect::RemoveProduct(id) => {
                    if let Some(old) = self.products.remove(id) {
                        self.products_digest = self.products_digest.wrapping_sub(digest::row_hash(old.id, old.version));
                    }
                }
                Effect::Settings(s) => self.settings = s,
                Effect::Day(point) => {
                    self.days.insert(point.day, point);
                }
                Effect::Store(info) => self.meta.take(info),
                Effect::Days(days) => self.days = days.into_iter().map(|p| (p.day, p)).collect(),
                Effect::SaveView(saved) => {
                    self.saved_views.insert(saved.name.clone(), saved);
                }
                Effect::RemoveView(name) => {
                    self.saved_views.remove(&name);
                }
            }
        }
        for event in &batch.events {
            if self.history.len() == self.history_size {
                self.history.pop_front();
            }
            self.history.push_back(event.clone());
        }
        self.seq = self.seq.max(batch.to);
        self.remember_digest();
    }

    /// The digest of the state as it is now, at `seq`.
    pub fn digest(&self) -> StoreDigest {
        StoreDigest {
            seq: self.seq,
            products: self.products_digest,
            count: self.products.len(),
            dashboard: self.settings.version,
        }
    }

    fn remember_digest(&mut self) {
        if self.digests.back().is_some_and(|d| d.seq == self.seq) {
            self.digests.pop_back();
        }
        if self.digests.len() == DIGESTS_KEPT {
            self.digests.pop_front();
        }
        self.digests.push_back(self.digest());
    }

    /// The digest the state had at `seq`, if it is one of the recent ones.
    /// Seqs inside a committed batch were never a state of their own: the
    /// digest at the batch's last seq covers them.
    pub fn digest_at(&self, seq: Seq) -> Option<StoreDigest> {
        self.digests.iter().find(|d| d.seq == seq).copied()
    }

    /// The store's calendar day now.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.meta.tz).date_naive()
    }

    fn day(&self, day: NaiveDate) -> DailyPoint {
        self.days.get(&day).copied().unwrap_or(DailyPoint::empty(day))
    }

    /// The dashboard as of `now`.
    pub fn dashboard(&self, now: DateTime<Utc>) -> Dashboard {
        self.settings.dashboard(self.day(self.today(now)))
    }

    /// Every day from `from` to `to` inclusive, days without sales as zeros.
    pub fn daily(&self, from: NaiveDate, to: NaiveDate) -> Vec<DailyPoint> {
        from.iter_days().take_while(|d| *d <= to).map(|d| self.day(d)).collect()
    }

    /// Totals of the local days from `from` to `to`, inclusive.
    pub fn totals(&self, from: NaiveDate, to: NaiveDate) -> Totals {
        self.days.range(from..=to).fold(Totals::default(), |t, (_, p)| Totals {
            orders: t.orders + p.orders,
            units: t.units + p.units,
            revenue: t.revenue + p.revenue,
        })
    }

    /// The sales summary as of `now`.
    pub fn summary(&self, now: DateTime<Utc>) -> SalesSummary {
        let today = self.today(now);
        let last_7 = self.totals(today - Duration::days(6), today);
        let previous_7 = self.totals(today - Duration::days(13), today - Duration::days(7));
        let trend_bp = (previous_7.revenue > 0)
            .then(|| (last_7.revenue - previous_7.revenue).saturating_mul(10_000) / previous_7.revenue);
        // The best five without sorting the whole store.
        let by_revenue = |a: &&Product, b: &&Product| b.revenue.cmp(&a.revenue).then(a.id.cmp(&b.id));
        let mut top: Vec<&Product> = self.products.iter().collect();
        if top.len() > 5 {
            top.select_nth_unstable_by(5, by_revenue);
            top.truncate(5);
        }
        top.sort_by(by_revenue);
        SalesSummary {
            today: self.day(today),
            yesterday: self.day(today - Duration::days(1)),
            last_7_days: last_7,
            previous_7_days: previous_7,
            trend_bp,
            last_30_days: self.totals(today - Duration::days(29), today),
            top_products: top.into_iter().take(5).cloned().collect(),
        }
    }

    /// One page of the product table.
    pub fn page(&self, view: &View) -> ProductPage {
        let (total, rows) = self.products.page(view);
        ProductPage::new(self.seq, view.clone(), total, rows)
    }

    /// A consistent snapshot at the current seq.
    pub fn snapshot(&self, view: &View, now: DateTime<Utc>) -> Snapshot {
        let today = self.today(now);
        Snapshot {
            info: self.meta.info.clone(),
            seq: self.seq,
            dashboard: self.dashboard(now),
            sales: self.daily(today - Duration::days(29), today),
            page: self.page(view),
            digest: self.digest(),
        }
    }

    /// Events after `since` from the in-memory ring, if the ring reaches
    /// back that far.
    pub fn history_since(&self, since: Seq) -> Option<Vec<Event>> {
        let oldest = self.history.front().map_or(self.seq + 1, |e| e.seq);
        (since + 1 >= oldest || since >= self.seq)
            .then(|| self.history.iter().filter(|e| e.seq > since).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;

    fn state(history: usize) -> StoreState {
        let mut state = testkit::store_state(chrono_tz::Asia::Tokyo, vec![], history);
        state.seq = 0;
        state
    }

    fn event(seq: Seq) -> Event {
        let kind = crate::model::EventKind::ViewPublished;
        Event { seq, kind, entity_id: None, at: Utc::now(), by: "t".into(), data: serde_json::Value::Null }
    }

    #[test]
    fn history_ring_keeps_the_newest_and_knows_when_it_is_too_short() {
        let mut s = state(3);
        for seq in 1..=5 {
            let mut batch = CommittedBatch {
                store_id: 1,
                to: seq,
                events: vec![event(seq)],
                effects: vec![Effect::UpsertProduct(testkit::product(seq))],
            };
            s.apply(&mut batch);
        }
        assert_eq!(s.seq, 5);
        assert_eq!(s.products.len(), 5);
        let seqs = |v: Vec<Event>| v.iter().map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!(seqs(s.history_since(2).unwrap()), vec![3, 4, 5]);
        assert_eq!(seqs(s.history_since(5).unwrap()), Vec::<i64>::new());
        assert!(s.history_since(1).is_none(), "seq 2 fell out of the ring");
    }

    #[test]
    fn the_digest_follows_every_change_and_remembers_recent_seqs() {
        let mut s = state(8);
        let commit = |s: &mut StoreState, seq: Seq, effects: Vec<Effect>| {
            s.apply(&mut CommittedBatch { store_id: 1, to: seq, events: vec![event(seq)], effects });
        };
        let mut newer = testkit::product(1);
        newer.version = 2;
        commit(&mut s, 1, vec![Effect::UpsertProduct(testkit::product(1)), Effect::UpsertProduct(testkit::product(2))]);
        let at_1 = s.digest();
        commit(&mut s, 2, vec![Effect::UpsertProduct(newer), Effect::RemoveProduct(2)]);
        let recomputed = digest::products_digest(s.products.iter());
        assert_eq!((s.digest().products, s.digest().count, s.digest().seq), (recomputed, 1, 2));
        assert_eq!(s.digest_at(1), Some(at_1));
        assert_eq!(at_1.count, 2);
        assert_eq!(s.digest_at(3), None, "not reached yet");
    }

    #[test]
    fn days_are_bucketed_in_the_store_time_zone() {
        let s = state(1);
        // 20:00 UTC is already the next day in Tokyo (UTC+9).
        let now = "2026-03-01T20:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(s.today(now).to_string(), "2026-03-02");
        assert_eq!(s.daily(s.today(now) - Duration::days(2), s.today(now)).len(), 3);
    }

    #[test]
    fn summary_trend_compares_weeks() {
        let mut s = state(1);
        let now = Utc::now();
        let today = s.today(now);
        for (offset, revenue) in [(0, 300), (8, 200)] {
            let day = today - Duration::days(offset);
            s.days.insert(day, DailyPoint { day, orders: 1, units: 1, revenue });
        }
        let summary = s.summary(now);
        assert_eq!(summary.last_7_days.revenue, 300);
        assert_eq!(summary.trend_bp, Some(5000));
        assert_eq!(summary.today.revenue, 300);
    }
}
