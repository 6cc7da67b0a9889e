//! What a write is (`Change`), what it produced (`Outcome`, the response
//! body and what the idempotency table stores), and `Applied`: a committed
//! write with the events and live-state effects the store actor applies.

use serde::{Deserialize, Serialize};

use crate::model::bulk::{BulkOp, BulkReport};
use crate::model::kpi::{KpiDefinition, KpiRemoved, KpiRule};
use crate::model::saved_view::SavedView;
use crate::model::schedule::{ScheduleEdit, ScheduledChange, ScheduledOp};
use crate::model::store::StorePatch;
use crate::model::{
    DailyPoint, Dashboard, DashboardPatch, DashboardSettings, Event, NewProduct, NewSale, Product, ProductId,
    ProductPatch, SaleReceipt, Seq, StoreId, StoreInfo, View,
};

/// A write to one store.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    CreateProduct(NewProduct),
    PatchProduct {
        id: ProductId,
        if_match: Option<i64>,
        patch: ProductPatch,
    },
    DeleteProduct {
        id: ProductId,
        if_match: Option<i64>,
    },
    /// One change to many products (`model::bulk`), all or nothing.
    BulkProducts {
        ids: Vec<ProductId>,
        change: BulkOp,
    },
    /// Upsert by SKU.
    ImportProducts {
        rows: Vec<NewProduct>,
    },
    PatchDashboard(DashboardPatch),
    RecordSale(NewSale),
    /// Sets (or with `None` removes) a product's image, by content hash.
    SetImage {
        id: ProductId,
        if_match: Option<i64>,
        image: Option<String>,
    },
    /// Pagination follow: subscribers with `follow` move to this view.
    PublishView {
        view: View,
    },
    /// Changes the store's own settings (global admins).
    UpdateStore(StorePatch),
    /// Makes the store read-only and ends its subscriptions.
    ArchiveStore,
    /// Makes an archived store writable again.
    RestoreStore,
    /// Publishes a saved view by name (as `PublishView` would its view).
    PublishSavedView {
        name: String,
    },
    /// Saves a view under a name, replacing one of that name.
    SaveView {
        name: String,
        view: View,
    },
    DeleteView {
        name: String,
    },
    /// Schedules a change for `due_at` (`model::schedule`), in the name of the
    /// writer and the grant it wrote with, re-checked when due.
    Schedule {
        due_at: chrono::DateTime<chrono::Utc>,
        scheduled: ScheduledOp,
        user_id: i64,
        token_id: Option<i64>,
    },
    /// Changes a pending scheduled change before its time.
    EditSchedule {
        id: i64,
        edit: ScheduleEdit,
    },
    CancelSchedule {
        id: i64,
    },
    /// Applies a due scheduled change, or fails it with its reason; a
    /// change no longer pending (another node or an earlier run settled
    /// it) is left alone.
    RunSchedule {
        id: i64,
    },
    /// Saves a custom KPI under a name, replacing one of that name.
    SaveKpi {
        name: String,
        definition: KpiDefinition,
    },
    DeleteKpi {
        name: String,
    },
}

impl Change {
    /// Identifies the request for idempotency: a key reused with a different
    /// change is refused.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        // serde_json of our own enum cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(json))
    }
}

/// Result of an import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub seq: Seq,
}

/// What a committed write answers; stored verbatim for idempotent replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Outcome {
    Created(Product),
    Updated(Product),
    Deleted { id: ProductId },
    Imported(ImportReport),
    Bulk(BulkReport),
    Dashboard(Dashboard),
    Sale(SaleReceipt),
    Published,
    Store(StoreInfo),
    SavedView(SavedView),
    ViewDeleted { name: String },
    Scheduled(ScheduledChange),
    Kpi(KpiRule),
    KpiDeleted { name: String },
}

/// A committed write's answer, of the type its handler expects.
#[derive(Debug, Clone, PartialEq)]
pub struct Committed<T> {
    /// The store's seq after the write.
    pub seq: Seq,
    pub answer: T,
}

/// A type a write answers with, read out of the stored `Outcome`. The
/// outcome of a change is fixed by its kind, so a mismatch is a bug: it
/// comes back as the outcome, for the one place that reports it.
pub trait Answer: Sized {
    fn from_outcome(outcome: Outcome) -> Result<Self, Box<Outcome>>;
}

/// Implements `Answer` for a type read out of the outcomes `$outcome` matches.
macro_rules! answer {
    ($ty:ty: $outcome:pat => $value:expr) => {
        impl Answer for $ty {
            fn from_outcome(outcome: Outcome) -> Result<Self, Box<Outcome>> {
                match outcome {
                    $outcome => Ok($value),
                    other => Err(Box::new(other)),
                }
            }
        }
    };
}

// Creates and updates answer the product, a delete the id it deleted.
answer!(Product: Outcome::Created(product) | Outcome::Updated(product) => product);
answer!(ProductId: Outcome::Deleted { id } => id);
answer!(ImportReport: Outcome::Imported(report) => report);
answer!(BulkReport: Outcome::Bulk(report) => report);
answer!(Dashboard: Outcome::Dashboard(dashboard) => dashboard);
answer!(SaleReceipt: Outcome::Sale(receipt) => receipt);
answer!(StoreInfo: Outcome::Store(info) => info);
answer!(SavedView: Outcome::SavedView(saved) => saved);
// A saved view's delete answers the name it deleted.
answer!(String: Outcome::ViewDeleted { name } => name);
answer!(ScheduledChange: Outcome::Scheduled(scheduled) => scheduled);
answer!(KpiRule: Outcome::Kpi(rule) => rule);
answer!(KpiRemoved: Outcome::KpiDeleted { name } => KpiRemoved(name));

/// A change to the store actor's live state, applied only after commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Effect {
    UpsertProduct(Product),
    RemoveProduct(ProductId),
    Settings(DashboardSettings),
    Day(DailyPoint),
    /// The store's settings changed (a time zone among them: `Days` follows).
    Store(StoreInfo),
    /// Every daily bucket, recomputed (a new time zone).
    Days(Vec<DailyPoint>),
    SaveView(SavedView),
    RemoveView(String),
}

/// One committed (or replayed) write.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The store's seq after this write (the last event's seq).
    pub seq: Seq,
    pub outcome: Outcome,
    /// Empty for an idempotent replay: it changed nothing.
    pub events: Vec<Event>,
    pub effects: Vec<Effect>,
}

/// What one group commit made durable in a store: the events it appended,
/// in seq order, up to seq `to`, and their effects on the live state. The
/// unit a store actor publishes (`store::publish`) and applies to its live
/// state and fan-out. In a cluster it travels between nodes as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommittedBatch {
    pub store_id: StoreId,
    pub to: Seq,
    pub events: Vec<Event>,
    pub effects: Vec<Effect>,
}

impl CommittedBatch {
    /// Gathers the committed writes of a group commit (idempotent replays
    /// add nothing), moving their events and effects out.
    pub fn gather<'a>(store_id: StoreId, writes: impl IntoIterator<Item = &'a mut Applied>) -> Self {
        let mut batch = Self { store_id, to: 0, events: Vec::new(), effects: Vec::new() };
        for applied in writes {
            batch.to = batch.to.max(applied.seq);
            batch.events.append(&mut applied.events);
            batch.effects.append(&mut applied.effects);
        }
        batch
    }

    /// The seq of its first event (batches are never empty once gathered
    /// from writes that changed something).
    pub fn from(&self) -> Seq {
        self.events.first().map_or(self.to, |e| e.seq)
    }
}

/// A write waiting for the next group commit.
#[derive(Debug, Clone)]
pub struct PendingChange {
    /// `user:<name>` or `token:<name>`, recorded in the event.
    pub by: String,
    pub idempotency: Option<IdempotencyKey>,
    pub change: Change,
}

/// An `Idempotency-Key` scoped to the principal that sent it.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub principal: String,
    pub key: String,
    pub fingerprint: String,
}
