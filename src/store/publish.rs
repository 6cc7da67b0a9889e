//! The publish seam: after each group commit a store actor hands the
//! `CommittedBatch` to its `Publish` before applying it to its own live
//! state and fan-out (`StoreActor::apply_batch`), and it reports its
//! subscribers' presence counts the same way. On one node nobody else needs
//! either (`SingleNode`); in a cluster the broker (`crate::cluster`)
//! publishes them so the other nodes' store actors apply them too. The
//! direct outbox push stays in the local fan-out, on the store's own thread.

use crate::model::change::CommittedBatch;
use crate::store::StoreMeta;
use crate::wire::protocol::Presence;

/// Where a store actor hands each batch it committed.
pub trait Publish: Send + Sync {
    /// Called on the store actor's thread, once per group commit that made
    /// something durable; must not block.
    fn publish(&self, store: &StoreMeta, batch: &CommittedBatch);

    /// Called on the store actor's thread when the counts of its own
    /// subscribers changed; must not block.
    fn presence(&self, store: &StoreMeta, local: Presence);
}

/// One node: the local fan-out is everyone.
pub struct SingleNode;

impl Publish for SingleNode {
    fn publish(&self, _: &StoreMeta, _: &CommittedBatch) {}

    fn presence(&self, _: &StoreMeta, _: Presence) {}
}
