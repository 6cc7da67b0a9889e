//! Messages a store actor answers. Owned data, one line each.

use actix::Message;
use chrono::NaiveDate;
use tokio::sync::watch;

use crate::error::ApiError;
use crate::model::bulk::{BulkOp, BulkReport, Selection};
use crate::model::change::{Applied, CommittedBatch, PendingChange};
use crate::model::{DailyPoint, Dashboard, Product, ProductId, ProductPage, Seq, View};
use crate::model::{SalesSummary, Snapshot};
use crate::wire::protocol::Presence;

/// Commit one write with the next group commit; replies once durable.
#[derive(Message)]
#[rtype(result = "Result<Applied, ApiError>")]
pub struct Write(pub PendingChange);

/// One page of the product table.
#[derive(Message)]
#[rtype(result = "Result<ProductPage, ApiError>")]
pub struct GetPage(pub View);

/// A bulk change's products, resolved and planned against the live state:
/// the ids to write and the dry run's report.
#[derive(Message)]
#[rtype(result = "Result<(Vec<ProductId>, BulkReport), ApiError>")]
pub struct PlanBulk {
    pub selection: Selection,
    pub op: BulkOp,
}

/// One product of this store.
#[derive(Message)]
#[rtype(result = "Result<Product, ApiError>")]
pub struct GetProduct(pub ProductId);

/// Every product, by id (export).
#[derive(Message)]
#[rtype(result = "Result<Vec<Product>, ApiError>")]
pub struct GetAllProducts;

/// Dashboard, recent sales and a page, at one seq.
#[derive(Message)]
#[rtype(result = "Result<Snapshot, ApiError>")]
pub struct GetSnapshot(pub View);

/// The dashboard now.
#[derive(Message)]
#[rtype(result = "Result<Dashboard, ApiError>")]
pub struct GetDashboard;

/// Daily sales between two local days, inclusive.
#[derive(Message)]
#[rtype(result = "Result<Vec<DailyPoint>, ApiError>")]
pub struct GetDaily {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The sales summary now.
#[derive(Message)]
#[rtype(result = "Result<SalesSummary, ApiError>")]
pub struct GetSummary;

/// A receiver that sees the store's seq advance (long-poll).
#[derive(Message)]
#[rtype(result = "Result<watch::Receiver<Seq>, ApiError>")]
pub struct WatchSeq;

/// The store's saved views, by name.
#[derive(Message)]
#[rtype(result = "Result<Vec<crate::model::saved_view::SavedView>, ApiError>")]
pub struct GetSavedViews;

/// Read the live state again from the database in the background and
/// replace it; the subscribers resync.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Reload;

/// The store was deleted: end its subscriptions (`resync store_deleted`),
/// drop the live state and never load it again.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Retire;

/// Drop the live state if nothing needs it (no subscribers, nothing in
/// flight); sent by the registry to stores nobody asked for a while.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Hibernate;

/// Reload the live state if hibernating; sent ahead of the first request
/// routed to a hibernating store.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Wake;

/// Join the store's fan-out: the store sends `subscribed`, then a snapshot
/// or the missed events, then every later change.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Subscribe {
    pub outbox: crate::wire::outbox::Outbox,
    pub role: crate::auth::Role,
    pub since: Option<Seq>,
    pub topics: crate::wire::protocol::Topics,
    pub view: View,
    pub follow: bool,
    /// The client frame's `id`, echoed in `subscribed`.
    pub reference: Option<serde_json::Value>,
}

/// Leave the store's fan-out; once answered, no further frame of this store
/// is queued for the session.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unsubscribe {
    pub session: u64,
}

/// Change a subscriber's product-table view; the store answers with a
/// `page` frame.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetView {
    pub session: u64,
    pub view: View,
    pub reference: Option<serde_json::Value>,
}

/// A batch another node of the cluster committed; applied in seq order.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Remote(pub CommittedBatch);

/// The database holds this store at `seq`: a store behind it waits `grace`
/// for the broker to bring the batches, then reads them itself.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CatchUp {
    pub seq: Seq,
    pub grace: std::time::Duration,
}

/// Subscribers of this store on the other nodes of the cluster.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RemotePresence(pub Presence);

/// Answer a subscriber with the store's digest at `seq` (`digest` frame).
#[derive(Message)]
#[rtype(result = "()")]
pub struct GetDigest {
    pub session: u64,
    pub seq: Seq,
    pub reference: Option<serde_json::Value>,
}

/// Change a subscriber's topics; the ones added catch up from `since`
/// (`topics` frame, then a replay or a snapshot).
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetTopics {
    pub session: u64,
    pub topics: crate::wire::protocol::Topics,
    pub since: Option<Seq>,
    pub reference: Option<serde_json::Value>,
}
