//! The load generator's consistency check. One subscriber per store (the
//! checker) keeps what a browser keeps of its store, the dashboard's version
//! and its page's rows (id, version) and total, from the snapshot, `page`
//! frames and the events of its batches; at most once a second after a
//! batch, and once more at the end of the run, it asks for the store's
//! digest at the seq it applied (`digest` frame) and compares. A mismatch is
//! counted and the checker starts over from a snapshot
//! (`resync: "digest_mismatch"`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::model::digest::page_digest_of;
use crate::model::Seq;

/// Shortest time between two digest requests of a checker during the run.
const ASK_EVERY: Duration = Duration::from_secs(1);

/// What a checking subscriber holds, and its counts.
pub struct Checker {
    store: String,
    subscribe: Value,
    dashboard: i64,
    total: usize,
    rows: Vec<(i64, i64)>,
    /// The dashboard version it held at each seq it asked about.
    asked: HashMap<Seq, i64>,
    last_ask: Option<Instant>,
    pub checks: u64,
    pub mismatches: u64,
}

impl Checker {
    /// A checker of `store`, subscribed with `subscribe` (sent again, with
    /// the reason, to resync).
    pub fn new(store: &str, subscribe: Value) -> Self {
        Self {
            store: store.to_owned(),
            subscribe,
            dashboard: 0,
            total: 0,
            rows: Vec::new(),
            asked: HashMap::new(),
            last_ask: None,
            checks: 0,
            mismatches: 0,
        }
    }

    /// Applies a snapshot, page or batch frame to what it holds.
    pub fn apply(&mut self, frame: &Value) {
        match frame["type"].as_str() {
            Some("snapshot") => {
                self.dashboard = frame["dashboard"]["version"].as_i64().unwrap_or_default();
                self.take_page(&frame["page"]);
            }
            Some("page") => self.take_page(frame),
            // A one-event batch carries its event inline.
            Some("batch") => match frame["events"].as_array() {
                Some(events) => events.iter().for_each(|e| self.apply_event(e)),
                None => self.apply_event(frame),
            },
            _ => {}
        }
    }

    fn take_page(&mut self, page: &Value) {
        self.total = page["total"].as_u64().unwrap_or_default() as usize;
        let rows = page["rows"].as_array().into_iter().flatten();
        self.rows =
            rows.map(|r| (r["id"].as_i64().unwrap_or_default(), r["version"].as_i64().unwrap_or_default())).collect();
    }

    /// A row's newer version (older ones are events a page already had).
    fn bump(&mut self, id: Option<i64>, version: Option<i64>) {
        let (Some(id), Some(version)) = (id, version) else { return };
        if let Some(row) = self.rows.iter_mut().find(|(row, _)| *row == id) {
            row.1 = row.1.max(version);
        }
    }

    fn apply_event(&mut self, e: &Value) {
        let data = &e["data"];
        match e["kind"].as_str() {
            Some("product.updated" | "product.image_changed") => {
                self.bump(e["entity_id"].as_i64(), data["version"].as_i64());
            }
            Some("product.deleted") => self.rows.retain(|(id, _)| Some(*id) != data["id"].as_i64()),
            Some("sales.updated") => {
                for p in data["products"].as_array().into_iter().flatten() {
                    self.bump(p["id"].as_i64(), p["version"].as_i64());
                }
            }
            Some("dashboard.updated") => {
                self.dashboard = self.dashboard.max(data["version"].as_i64().unwrap_or_default())
            }
            Some("store.updated") => {
                if let Some(version) = data["dashboard"]["version"].as_i64() {
                    self.dashboard = version;
                }
            }
            _ => {}
        }
    }

    /// The `digest` request for `seq`, when one is due (`last`: the run's
    /// final check, always).
    pub fn ask(&mut self, seq: Seq, last: bool) -> Option<String> {
        if !last && self.last_ask.is_some_and(|at| at.elapsed() < ASK_EVERY) {
            return None;
        }
        self.last_ask = Some(Instant::now());
        self.asked.insert(seq, self.dashboard);
        Some(json!({"type": "digest", "store": self.store, "seq": seq}).to_string())
    }

    /// Compares a `digest` answer; the `subscribe` frame to resync with
    /// when it differs. An answer with a page comes at the store's live
    /// seq, when the checker is still at it: its page and dashboard are
    /// compared. An older seq's answer has only the store's parts: the
    /// dashboard version held then is compared.
    pub fn answer(&mut self, frame: &Value) -> Option<String> {
        let seq = frame["seq"].as_i64()?;
        let held = self.asked.remove(&seq)?;
        let digest = frame["digest"].as_object()?;
        let dashboard = digest.get("dashboard").and_then(Value::as_i64);
        self.checks += 1;
        let same = match frame["page"].as_u64() {
            Some(page) => {
                dashboard == Some(self.dashboard)
                    && page == u64::from(page_digest_of(self.total, self.rows.iter().copied()))
            }
            None => dashboard == Some(held),
        };
        if same {
            return None;
        }
        self.mismatches += 1;
        let mut resync = self.subscribe.clone();
        resync["resync"] = json!("digest_mismatch");
        Some(resync.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checker_follows_events_and_sees_a_wrong_page() {
        let mut c = Checker::new("s1", json!({"type": "subscribe", "store": "s1"}));
        c.apply(&json!({"type": "snapshot", "dashboard": {"version": 3},
            "page": {"total": 2, "rows": [{"id": 1, "version": 1}, {"id": 2, "version": 5}]}}));
        c.apply(&json!({"type": "batch", "events": [
            {"kind": "product.updated", "entity_id": 1, "data": {"version": 2}},
            {"kind": "sales.updated", "data": {"products": [{"id": 2, "version": 6}]}},
            {"kind": "dashboard.updated", "data": {"version": 4}}]}));
        c.apply(&json!({"type": "batch", "seq": 9, "kind": "product.updated", "entity_id": 1, "data": {"version": 3}}));
        let right = page_digest_of(2, [(1, 3), (2, 6)]);
        c.ask(10, true).unwrap();
        let answer = json!({"seq": 10, "digest": {"dashboard": 4}, "page": right});
        assert_eq!((c.answer(&answer), c.checks), (None, 1));
        c.ask(11, true).unwrap();
        let wrong = json!({"seq": 11, "digest": {"dashboard": 4}, "page": right ^ 1});
        assert!(c.answer(&wrong).unwrap().contains("digest_mismatch"));
        c.ask(12, true).unwrap();
        let older = json!({"seq": 12, "digest": {"dashboard": 4}});
        assert_eq!((c.answer(&older), c.checks, c.mismatches), (None, 3, 1));
    }
}
