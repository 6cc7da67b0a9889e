//! The publish seam: after each group commit a store actor hands the
//! `CommittedBatch` to its `Publish` before applying it to its own live
//! state and fan-out (`StoreActor::apply_batch`). On one node nobody else
//! needs it (`SingleNode`); with several nodes a broker publishes it so the
//! other nodes' store actors apply it too. The direct outbox push stays in
//! the local fan-out, on the store's own thread.

use crate::model::change::CommittedBatch;
use crate::store::StoreMeta;

/// Where a store actor hands each batch it committed.
pub trait Publish: Send + Sync {
    /// Called on the store actor's thread, once per group commit that made
    /// something durable; must not block.
    fn publish(&self, store: &StoreMeta, batch: &CommittedBatch);
}

/// One node: the local fan-out is everyone.
pub struct SingleNode;

impl Publish for SingleNode {
    fn publish(&self, _: &StoreMeta, _: &CommittedBatch) {}
}
