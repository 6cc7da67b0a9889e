//! What a load run measured, computed from the writes that were
//! acknowledged and the batches each subscriber received: delivery (every
//! acknowledged write covered by a batch of every subscriber of its store),
//! latency from write request to receipt, counts per node URL, and the rest
//! of the table.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::model::Seq;

/// An acknowledged write.
#[derive(Debug, Clone, Copy)]
pub struct Acked {
    /// The index of the URL it was written through.
    pub node: usize,
    pub store: usize,
    pub seq: Seq,
    pub sent: Instant,
    /// The topic its event belongs to (`products`, `sales`, `dashboard`).
    pub topic: &'static str,
}

/// A batch a subscriber received: its seq range and when.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub from: Seq,
    pub to: Seq,
    pub at: Instant,
}

/// What one subscriber saw.
#[derive(Debug, Default)]
pub struct SubscriberLog {
    /// The index of the URL it is connected to.
    pub node: usize,
    pub store: usize,
    /// Topics it subscribed to; empty: all.
    pub topics: Vec<String>,
    /// The seq its subscription started at.
    pub start: Seq,
    pub batches: Vec<Received>,
    /// Bytes of the frames after the initial snapshot.
    pub bytes: u64,
    /// Bytes of the snapshot the subscription started with.
    pub snapshot_bytes: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    pub resyncs: u64,
    pub connect: Duration,
    /// Digest answers its checker compared (`load::digest`), and how many differed.
    pub digest_checks: u64,
    pub digest_mismatches: u64,
}

/// Percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Percentiles {
    /// Percentiles of `samples` (sorted in place).
    pub fn of(samples: &mut [f64]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
        Self { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: samples[samples.len() - 1] }
    }
}

/// What went through one of the URLs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NodeCounts {
    pub url: String,
    /// Subscribers connected to it.
    pub subscribers: usize,
    /// Writes it acknowledged, and writes sent to it that failed.
    pub writes_acked: usize,
    pub write_errors: u64,
    /// What its subscribers were due (every acknowledged write of their
    /// store, through any URL) and what they received.
    pub deliveries_expected: u64,
    pub deliveries: u64,
}

/// The result of a load run.
#[derive(Debug, Serialize)]
pub struct Report {
    pub duration_s: f64,
    pub subscribers: usize,
    pub writes_acked: usize,
    pub write_errors: u64,
    pub deliveries_expected: u64,
    pub deliveries: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    pub resyncs: u64,
    /// Digests the checking subscribers compared with their state, and how
    /// many differed (each one resynced).
    pub digest_checks: u64,
    pub digest_mismatches: u64,
    /// Delivered over expected.
    pub delivery_ratio: f64,
    pub deliveries_per_sec: f64,
    /// Write request sent to batch received.
    pub latency_ms: Percentiles,
    pub connect_ms: Percentiles,
    /// Update traffic per subscriber, extrapolated to an hour; the initial
    /// snapshot is counted once, in `snapshot_bytes_per_subscriber`.
    pub bytes_per_subscriber_per_hour: f64,
    pub snapshot_bytes_per_subscriber: f64,
    /// Server RSS growth per connection, with `--server-pid`.
    pub memory_per_connection_kib: Option<f64>,
    /// Server CPU time from the first write until the last delivery was
    /// read (or the settle time passed), with `--server-pid`; and per
    /// delivery, in microseconds.
    pub server_cpu_s: Option<f64>,
    pub server_cpu_us_per_delivery: Option<f64>,
    /// The same counts per URL, in the order given.
    pub per_url: Vec<NodeCounts>,
}

impl Report {
    /// Joins writes and receipts; `write_errors` are per URL.
    pub fn compute(
        urls: &[String],
        acked: &[Acked],
        logs: &[SubscriberLog],
        write_errors: &[u64],
        duration: Duration,
        memory_per_connection_kib: Option<f64>,
    ) -> Self {
        let mut per_url: Vec<NodeCounts> = urls
            .iter()
            .zip(write_errors)
            .map(|(url, &write_errors)| NodeCounts { url: url.clone(), write_errors, ..NodeCounts::default() })
            .collect();
        for write in acked {
            per_url[write.node].writes_acked += 1;
        }
        let mut latencies = Vec::new();
        for log in logs {
            let node = &mut per_url[log.node];
            node.subscribers += 1;
            let wants = |topic: &str| log.topics.is_empty() || log.topics.iter().any(|t| t == topic || t == "history");
            for write in acked.iter().filter(|w| w.store == log.store && w.seq > log.start && wants(w.topic)) {
                node.deliveries_expected += 1;
                let i = log.batches.partition_point(|b| b.to < write.seq);
                if let Some(batch) = log.batches.get(i).filter(|b| b.from <= write.seq) {
                    node.deliveries += 1;
                    latencies.push(batch.at.saturating_duration_since(write.sent).as_secs_f64() * 1000.0);
                }
            }
        }
        let expected: u64 = per_url.iter().map(|n| n.deliveries_expected).sum();
        let delivered: u64 = per_url.iter().map(|n| n.deliveries).sum();
        let mut connects: Vec<f64> = logs.iter().map(|l| l.connect.as_secs_f64() * 1000.0).collect();
        let secs = duration.as_secs_f64().max(0.001);
        let per_subscriber = |bytes: u64| if logs.is_empty() { 0.0 } else { bytes as f64 / logs.len() as f64 };
        Self {
            duration_s: secs,
            subscribers: logs.len(),
            writes_acked: acked.len(),
            write_errors: write_errors.iter().sum(),
            deliveries_expected: expected,
            deliveries: delivered,
            lost: expected - delivered,
            duplicated: logs.iter().map(|l| l.duplicated).sum(),
            out_of_order: logs.iter().map(|l| l.out_of_order).sum(),
            resyncs: logs.iter().map(|l| l.resyncs).sum(),
            digest_checks: logs.iter().map(|l| l.digest_checks).sum(),
            digest_mismatches: logs.iter().map(|l| l.digest_mismatches).sum(),
            delivery_ratio: if expected == 0 { 1.0 } else { delivered as f64 / expected as f64 },
            deliveries_per_sec: delivered as f64 / secs,
            latency_ms: Percentiles::of(&mut latencies),
            connect_ms: Percentiles::of(&mut connects),
            bytes_per_subscriber_per_hour: per_subscriber(logs.iter().map(|l| l.bytes).sum()) / secs * 3600.0,
            snapshot_bytes_per_subscriber: per_subscriber(logs.iter().map(|l| l.snapshot_bytes).sum()),
            memory_per_connection_kib,
            server_cpu_s: None,
            server_cpu_us_per_delivery: None,
            per_url,
        }
    }

    /// Records the server's CPU seconds over the run.
    pub fn set_server_cpu(&mut self, secs: f64) {
        self.server_cpu_s = Some(secs);
        self.server_cpu_us_per_delivery = (self.deliveries > 0).then(|| secs * 1e6 / self.deliveries as f64);
    }

    /// Whether every acknowledged write reached every subscriber, once, in
    /// order, and every state checked matched the store's digest.
    pub fn clean(&self) -> bool {
        self.lost == 0 && self.duplicated == 0 && self.out_of_order == 0 && self.digest_mismatches == 0
    }

    /// The report as an aligned text table.
    pub fn table(&self) -> String {
        let lat = |p: &Percentiles| {
            format!("p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}", p.p50, p.p90, p.p99, p.p999, p.max)
        };
        let mut rows = vec![
            ("duration", format!("{:.1} s", self.duration_s)),
            ("subscribers", self.subscribers.to_string()),
            ("writes acknowledged", format!("{} ({} failed)", self.writes_acked, self.write_errors)),
            (
                "deliveries",
                format!("{} of {} ({:.4} %)", self.deliveries, self.deliveries_expected, self.delivery_ratio * 100.0),
            ),
            (
                "lost / duplicated / out of order",
                format!("{} / {} / {}", self.lost, self.duplicated, self.out_of_order),
            ),
            ("resyncs", self.resyncs.to_string()),
            ("digest checks / mismatches", format!("{} / {}", self.digest_checks, self.digest_mismatches)),
            ("deliveries per second", format!("{:.0}", self.deliveries_per_sec)),
            ("write → receipt latency (ms)", lat(&self.latency_ms)),
            ("connect time (ms)", lat(&self.connect_ms)),
            ("bytes per subscriber per hour", format!("{:.0} (updates)", self.bytes_per_subscriber_per_hour)),
            ("initial snapshot per subscriber", format!("{:.0} bytes", self.snapshot_bytes_per_subscriber)),
            (
                "server memory per connection",
                self.memory_per_connection_kib.map_or("(pass --server-pid)".into(), |k| format!("{k:.2} KiB")),
            ),
            (
                "server CPU",
                match (self.server_cpu_s, self.server_cpu_us_per_delivery) {
                    (Some(s), Some(us)) => format!("{s:.2} s, {us:.3} µs per delivery"),
                    (Some(s), None) => format!("{s:.2} s"),
                    _ => "(pass --server-pid)".into(),
                },
            ),
        ];
        for node in &self.per_url {
            rows.push((
                "via",
                format!(
                    "{}: {} subscribers, {} writes ({} failed), {} of {} deliveries",
                    node.url,
                    node.subscribers,
                    node.writes_acked,
                    node.write_errors,
                    node.deliveries,
                    node.deliveries_expected
                ),
            ));
        }
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        rows.iter().map(|(k, v)| format!("{k:<width$}  {v}\n")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_ranks() {
        let mut v: Vec<f64> = (1..=1000).map(f64::from).collect();
        let p = Percentiles::of(&mut v);
        assert_eq!((p.p50, p.p90, p.p99, p.p999, p.max), (500.0, 900.0, 990.0, 999.0, 1000.0));
    }

    #[test]
    fn a_write_outside_every_batch_is_lost() {
        let t = Instant::now();
        let acked = [
            Acked { node: 0, store: 0, seq: 5, sent: t, topic: "products" },
            Acked { node: 1, store: 0, seq: 9, sent: t, topic: "products" },
            Acked { node: 1, store: 0, seq: 11, sent: t, topic: "sales" },
        ];
        let log = SubscriberLog {
            store: 0,
            start: 4,
            topics: vec!["products".into()],
            batches: vec![Received { from: 5, to: 7, at: t + Duration::from_millis(3) }],
            ..SubscriberLog::default()
        };
        let urls = ["http://a".to_owned(), "http://b".to_owned()];
        let r = Report::compute(&urls, &acked, &[log], &[0, 1], Duration::from_secs(1), None);
        assert_eq!((r.deliveries_expected, r.deliveries, r.lost, r.write_errors), (2, 1, 1, 1));
        // The subscriber is on the first URL; the writes went through both.
        let counts = |n: &NodeCounts| (n.subscribers, n.writes_acked, n.deliveries_expected, n.deliveries);
        assert_eq!(r.per_url.iter().map(counts).collect::<Vec<_>>(), [(1, 1, 2, 1), (0, 2, 0, 0)]);
        assert!(!r.clean());
        assert_eq!(r.latency_ms.max, 3.0);
    }
}
