//! Presence across nodes: what each other node last reported for each
//! store, forgotten when a node stops reporting (it stopped or lost the
//! broker), so a killed node's subscribers leave the counts within
//! `REPORT_TTL`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::model::StoreId;
use crate::wire::protocol::Presence;

/// How often a node repeats its counts.
pub const REPORT_EVERY: Duration = Duration::from_secs(2);
/// How long a node's last report counts.
pub const REPORT_TTL: Duration = Duration::from_secs(5);

/// The other nodes' reports, by store and node.
#[derive(Default)]
pub struct RemotePresence {
    reports: HashMap<StoreId, HashMap<String, (Presence, Instant)>>,
}

impl RemotePresence {
    /// Records a node's counts for a store, received at `now`.
    pub fn report(&mut self, store: StoreId, node: &str, counts: Presence, now: Instant) {
        let nodes = self.reports.entry(store).or_default();
        if counts == Presence::default() {
            nodes.remove(node);
        } else {
            nodes.insert(node.to_owned(), (counts, now));
        }
    }

    /// Forgets reports older than `REPORT_TTL` at `now`.
    pub fn expire(&mut self, now: Instant) {
        for nodes in self.reports.values_mut() {
            nodes.retain(|_, (_, at)| now.duration_since(*at) < REPORT_TTL);
        }
        self.reports.retain(|_, nodes| !nodes.is_empty());
    }

    /// The other nodes' subscribers of a store.
    pub fn total(&self, store: StoreId) -> Presence {
        self.reports.get(&store).map_or_else(Presence::default, |nodes| {
            nodes.values().fold(Presence::default(), |sum, (counts, _)| sum + *counts)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(admins: usize, viewers: usize) -> Presence {
        Presence { admins, editors: 0, viewers, followers: 0 }
    }

    #[test]
    fn reports_of_nodes_add_up_and_a_silent_node_is_forgotten() {
        let mut remote = RemotePresence::default();
        let start = Instant::now();
        remote.report(1, "a", counts(1, 2), start);
        remote.report(1, "b", counts(0, 3), start + Duration::from_secs(3));
        remote.report(2, "a", counts(4, 0), start);
        assert_eq!(remote.total(1), counts(1, 5));
        assert_eq!(remote.total(2), counts(4, 0));
        // Node a stopped reporting.
        remote.expire(start + REPORT_TTL + Duration::from_millis(1));
        assert_eq!(remote.total(1), counts(0, 3));
        assert_eq!(remote.total(2), Presence::default());
    }

    #[test]
    fn a_report_replaces_the_last_one_and_zero_removes_it() {
        let mut remote = RemotePresence::default();
        let now = Instant::now();
        remote.report(1, "a", counts(2, 2), now);
        remote.report(1, "a", counts(1, 0), now);
        assert_eq!(remote.total(1), counts(1, 0));
        remote.report(1, "a", Presence::default(), now);
        assert_eq!(remote.total(1), Presence::default());
    }
}
