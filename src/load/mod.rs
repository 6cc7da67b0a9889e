//! `storesync load`: a load generator for any storesync deployment. It opens
//! real WebSocket subscribers and drives real REST writers at a fixed rate,
//! then checks that every acknowledged write reached every subscriber of its
//! store, in seq order, once, and reports latency from write request to
//! receipt (see `report`). Exits non-zero when a delivery was lost.
//!
//! Given several `--url`s (the nodes of a cluster), it spreads subscribers
//! and writes over them round-robin: a write acknowledged by one node must
//! reach the subscribers of every node.
//!
//! One subscriber per store also checks the state it built against the
//! store's digests (`digest`), resyncing on a mismatch; the report counts
//! the checks and the mismatches.

pub mod catalogue;
pub mod digest;
pub mod report;
pub mod socket;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};

use crate::counted::lock;
use crate::model::Seq;
use digest::Checker;
use report::{Acked, Received, Report, SubscriberLog};
use socket::Socket;

/// Options of `storesync load`.
#[derive(clap::Args, Debug, Clone)]
pub struct LoadArgs {
    /// Base URL of the server; repeat it (or give a comma-separated list)
    /// for the nodes of a cluster: subscribers and writes go round-robin.
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:8080")]
    pub url: Vec<String>,
    /// Stores to load, comma-separated slugs; subscribers and writes are spread over them.
    #[arg(long, value_delimiter = ',', default_value = "s1")]
    pub stores: Vec<String>,
    /// WebSocket subscribers to open.
    #[arg(long, default_value_t = 100)]
    pub subscribers: usize,
    /// Concurrent REST writers.
    #[arg(long, default_value_t = 4)]
    pub writers: usize,
    /// Writes per second, over all writers (0: as fast as they can).
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// How long to write, e.g. 30s, 2m.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Write mix as kind=weight: product (stock edits), sale, dashboard,
    /// page (renames that re-sort the subscribers' name-sorted pages); or
    /// `mixed`, every kind (the soak's scenario, see `MIXED`).
    #[arg(long, default_value = "product=70,sale=20,dashboard=10")]
    pub mix: String,
    /// Bearer token to use (instead of --login).
    #[arg(long, env = "STORESYNC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// user:password to log in with (password defaults to STORESYNC_DEMO_PASSWORD).
    #[arg(long, default_value = "admin")]
    pub login: String,
    /// Topics subscribers ask for, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub topics: Vec<String>,
    /// PID of the server (of the first --url), to report its memory per connection.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Seconds to wait for deliveries after the last write.
    #[arg(long, default_value_t = 30)]
    pub settle_secs: u64,
    /// Subscribers connecting at once.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Distinct filtered views (search, status, sort) spread over the
    /// subscribers; 0: every subscriber holds the plain first page.
    #[arg(long, default_value_t = 0)]
    pub views: usize,
    /// Before the run, import generated products until each store holds this many.
    #[arg(long)]
    pub grow_to: Option<usize>,
    /// Offer permessage-deflate as browsers do (`ws://` only); byte counts
    /// are then what came over the wire, compressed.
    #[arg(long)]
    pub compression: bool,
}

/// Parses `30`, `30s`, `500ms`, `2m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s.trim().split_at(s.trim().find(|c: char| c.is_alphabetic()).unwrap_or(s.trim().len()));
    let n: f64 = num.parse().map_err(|_| format!("bad duration {s}"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        _ => return Err(format!("bad duration unit in {s}")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Product,
    Sale,
    Dashboard,
    Page,
}

impl Op {
    /// The topic of the event the write produces.
    fn topic(self) -> &'static str {
        match self {
            Op::Product | Op::Page => "products",
            Op::Sale => "sales",
            Op::Dashboard => "dashboard",
        }
    }
}

/// The `mixed` scenario: every kind of write, in the proportions of a back
/// office's day (mostly stock edits, then sales, the dashboard, renames).
pub const MIXED: &str = "product=60,sale=20,dashboard=10,page=10";

fn parse_mix(mix: &str) -> Result<Vec<(Op, u32)>, String> {
    let mix = if mix.trim() == "mixed" { MIXED } else { mix };
    mix.split(',')
        .map(|part| {
            let (kind, weight) = part.split_once('=').ok_or_else(|| format!("mix part {part} is not kind=weight"))?;
            let op = match kind.trim() {
                "product" => Op::Product,
                "sale" => Op::Sale,
                "dashboard" => Op::Dashboard,
                "page" => Op::Page,
                other => return Err(format!("unknown mix kind {other}")),
            };
            Ok((op, weight.trim().parse().map_err(|_| format!("bad weight in {part}"))?))
        })
        .collect()
}

fn rss_kib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU seconds the process has used, user and system, all threads.
fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name in parentheses: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ, what /proc counts in, is 100 on Linux.
    Some(ticks / 100.0)
}

struct Target {
    http: reqwest::Client,
    /// The base URLs, without a trailing slash.
    urls: Vec<String>,
    token: String,
    products: Vec<Vec<i64>>,
}

impl Target {
    async fn connect(args: &LoadArgs) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(args.writers.max(1) * 2)
            .build()
            .map_err(|e| e.to_string())?;
        let urls: Vec<String> = args.url.iter().map(|u| u.trim_end_matches('/').to_owned()).collect();
        // One login and one product list serve every node: they share the database.
        let url = urls.first().ok_or("give at least one --url")?;
        let token = match &args.token {
            Some(t) => t.clone(),
            None => {
                let (user, password) = match args.login.split_once(':') {
                    Some((u, p)) => (u.to_owned(), p.to_owned()),
                    None => (args.login.clone(), std::env::var("STORESYNC_DEMO_PASSWORD").unwrap_or_default()),
                };
                let r = http
                    .post(format!("{url}/api/v1/auth/login"))
                    .json(&json!({"username": user, "password": password}))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !r.status().is_success() {
                    return Err(format!("login as {user} failed: {}", r.status()));
                }
                let body: Value = r.json().await.map_err(|e| e.to_string())?;
                body["token"].as_str().ok_or("login answered no token")?.to_owned()
            }
        };
        let mut products = Vec::new();
        for store in &args.stores {
            let r = http
                .get(format!("{url}/api/v1/stores/{store}/products?page_size=200&status=active"))
                .bearer_auth(&token)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let body: Value = r.json().await.map_err(|e| e.to_string())?;
            let ids: Vec<i64> = body["rows"]
                .as_array()
                .ok_or(format!("cannot list products of {store}: {body}"))?
                .iter()
                .filter_map(|p| p["id"].as_i64())
                .collect();
            if ids.is_empty() {
                return Err(format!("store {store} has no active products to write to"));
            }
            products.push(ids);
        }
        Ok(Self { http, urls, token, products })
    }

    /// Sends one write through node `node`; its seq when acknowledged.
    async fn write(&self, node: usize, op: Op, store: &str, products: &[i64]) -> Option<i64> {
        let base = format!("{}/api/v1/stores/{store}", self.urls[node]);
        let request = {
            // ThreadRng is not Send: use it before the first await.
            let mut rng = rand::thread_rng();
            let product = *products.choose(&mut rng)?;
            match op {
                Op::Product => self
                    .http
                    .patch(format!("{base}/products/{product}"))
                    .json(&json!({"stock": rng.gen_range(0..100_000)})),
                Op::Sale => self
                    .http
                    .post(format!("{base}/sales"))
                    .json(&json!({"lines": [{"product_id": product, "quantity": rng.gen_range(1..4)}]})),
                Op::Dashboard => self
                    .http
                    .patch(format!("{base}/dashboard"))
                    .json(&json!({"visitors_today": rng.gen_range(100..100_000)})),
                // A rename re-sorts the subscribers' name-sorted pages.
                Op::Page => self
                    .http
                    .patch(format!("{base}/products/{product}"))
                    .json(&json!({"name": format!("Load {:08}", rng.gen_range(0..100_000_000))})),
            }
        };
        let r = request.bearer_auth(&self.token).send().await.ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.json::<Value>().await.ok()?["seq"].as_i64()
    }
}

/// A subscriber's socket and log, and its checker if it checks digests.
type Subscribed = (Socket, SubscriberLog, Option<Checker>);

#[allow(clippy::too_many_arguments)]
async fn subscribe(
    target: &Target,
    node: usize,
    store: usize,
    slug: &str,
    topics: &[String],
    view: Value,
    compression: bool,
    checks: bool,
) -> Result<Subscribed, String> {
    let started = Instant::now();
    let ws_url = format!("{}/ws?token={}", target.urls[node].replacen("http", "ws", 1), target.token);
    let mut ws = Socket::connect(&ws_url, compression).await?;
    if compression && !ws.compressed() {
        return Err("the server did not agree to compress (--ws-compression off?)".into());
    }
    let mut frame = json!({"type": "subscribe", "store": slug, "view": view});
    if !topics.is_empty() {
        frame["topics"] = json!(topics);
    }
    ws.send_text(frame.to_string()).await?;
    let checker = checks.then(|| Checker::new(slug, frame));
    loop {
        let msg =
            tokio::time::timeout(Duration::from_secs(30), ws.next_text()).await.map_err(|_| "subscribe timed out")?;
        let Some(socket::Text { text, .. }) = msg else {
            return Err("socket closed while subscribing".into());
        };
        let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        match v["type"].as_str() {
            Some("subscribed") => {
                let start = v["seq"].as_i64().unwrap_or_default();
                return Ok((
                    ws,
                    SubscriberLog {
                        node,
                        store,
                        start,
                        topics: topics.to_vec(),
                        connect: started.elapsed(),
                        ..SubscriberLog::default()
                    },
                    checker,
                ));
            }
            Some("error") => return Err(format!("subscribe refused: {v}")),
            _ => {}
        }
    }
}

/// The part of a `batch` frame the checker needs; the rest is skipped
/// unparsed, so the load generator spends its core on sockets, not JSON.
/// A batch of one event carries it inline: its `seq` stands for `from` and
/// `to` where they are left out.
#[derive(serde::Deserialize)]
struct BatchRange {
    from: Option<Seq>,
    to: Option<Seq>,
    seq: Option<Seq>,
}

impl BatchRange {
    /// `from..=to` of the batch.
    fn range(&self) -> Option<(Seq, Seq)> {
        Some((self.from.or(self.seq)?, self.to.or(self.seq)?))
    }
}

/// A checker's part of reading a frame: applies it, answers a digest
/// answer (resyncing on a mismatch), and takes a resync's snapshot as the
/// delivery of the seqs it covers. Whether the frame was a digest answer
/// (nothing more to do with it).
async fn check(c: &mut Checker, ws: &mut Socket, text: &str, last: &mut Seq, log: &mut SubscriberLog) -> bool {
    let Ok(frame) = serde_json::from_str::<Value>(text) else { return false };
    match frame["type"].as_str() {
        Some("digest") => {
            if let Some(resync) = c.answer(&frame) {
                let _ = ws.send_text(resync).await;
            }
            true
        }
        Some("snapshot") => {
            c.apply(&frame);
            let seq = frame["seq"].as_i64().unwrap_or_default();
            if seq > *last {
                log.batches.push(Received { from: *last + 1, to: seq, at: Instant::now() });
                *last = seq;
            }
            false
        }
        _ => {
            c.apply(&frame);
            false
        }
    }
}

/// The checker's final check at `last`: asks, and reads until the answer.
async fn final_check(c: &mut Checker, ws: &mut Socket, last: Seq) {
    let Some(ask) = c.ask(last, true) else { return };
    if ws.send_text(ask).await.is_err() {
        return;
    }
    while let Ok(Some(socket::Text { text, .. })) = tokio::time::timeout(Duration::from_secs(10), ws.next_text()).await
    {
        if text.starts_with("{\"type\":\"digest\"") {
            if let Ok(frame) = serde_json::from_str::<Value>(&text) {
                c.answer(&frame);
            }
            return;
        }
    }
}

/// Reads frames until the goal is set and its seq reached (or the settle time passes).
async fn read(
    mut ws: Socket,
    mut log: SubscriberLog,
    mut checker: Option<Checker>,
    mut done: tokio::sync::watch::Receiver<Option<(Instant, Vec<i64>)>>,
) -> SubscriberLog {
    let mut last = log.start;
    loop {
        let goal = done.borrow().clone();
        let msg = match goal {
            Some((deadline, targets)) => {
                if last >= targets[log.store] {
                    break;
                }
                match tokio::time::timeout_at(deadline.into(), ws.next_text()).await {
                    Ok(msg) => msg,
                    Err(_) => break,
                }
            }
            None => tokio::select! {
                msg = ws.next_text() => msg,
                _ = done.changed() => continue,
            },
        };
        let Some(socket::Text { text, wire }) = msg else { break };
        if let Some(c) = checker.as_mut() {
            if check(c, &mut ws, &text, &mut last, &mut log).await {
                continue;
            }
        }
        if log.snapshot_bytes == 0 && text.starts_with("{\"type\":\"snapshot\"") {
            log.snapshot_bytes = wire as u64;
            continue;
        }
        log.bytes += wire as u64;
        if !text.starts_with("{\"type\":\"batch\"") {
            if text.starts_with("{\"type\":\"resync\"") {
                log.resyncs += 1;
            }
            continue;
        }
        let at = Instant::now();
        let Some((from, to)) = serde_json::from_str::<BatchRange>(&text).ok().as_ref().and_then(BatchRange::range)
        else {
            continue;
        };
        if from <= last {
            log.duplicated += (last.min(to) - from + 1) as u64;
        } else if from > last + 1 {
            log.out_of_order += 1;
        }
        if to > last {
            log.batches.push(Received { from: from.max(last + 1), to, at });
            last = to;
        }
        if let Some(ask) = checker.as_mut().and_then(|c| c.ask(last, false)) {
            let _ = ws.send_text(ask).await;
        }
    }
    if let Some(c) = checker.as_mut() {
        final_check(c, &mut ws, last).await;
        (log.digest_checks, log.digest_mismatches) = (c.checks, c.mismatches);
    }
    ws.close().await;
    log
}

/// The store and the node of the `n`th subscriber or write: stores
/// round-robin, and nodes round-robin per round of stores, so that every
/// store is subscribed to and written through every node.
fn spread(n: usize, stores: usize, nodes: usize) -> (usize, usize) {
    (n % stores, (n / stores) % nodes)
}

/// Runs a load test and prints its report; `Ok(false)` when a delivery was
/// lost, duplicated or out of order, or a checked state differed from its digest.
pub async fn run(args: LoadArgs) -> Result<bool, String> {
    let mix = parse_mix(&args.mix)?;
    let total_weight: u32 = mix.iter().map(|(_, w)| w).sum();
    if total_weight == 0 || args.stores.is_empty() {
        return Err("the mix and the store list must not be empty".into());
    }
    let target = Arc::new(Target::connect(&args).await?);
    if let Some(to) = args.grow_to {
        for store in &args.stores {
            target.grow(store, to).await?;
        }
    }
    let rss_before = args.server_pid.and_then(rss_kib);

    let progress = indicatif::ProgressBar::new(args.subscribers as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {elapsed}")
            .map_err(|e| e.to_string())?,
    );
    progress.set_message("connecting");
    let connected: Vec<Result<Subscribed, String>> = futures_util::stream::iter(0..args.subscribers)
        .map(|i| {
            let target = target.clone();
            let (store, node) = spread(i, args.stores.len(), target.urls.len());
            let slug = args.stores[store].clone();
            let topics = args.topics.clone();
            let view = catalogue::view(args.views, i);
            let progress = progress.clone();
            let compression = args.compression;
            async move {
                // The first subscriber of each store checks digests.
                let checks = i < target.products.len();
                let r = subscribe(&target, node, store, &slug, &topics, view, compression, checks).await;
                progress.inc(1);
                r
            }
        })
        .buffer_unordered(args.connect_concurrency.max(1))
        .collect()
        .await;
    let sockets: Vec<Subscribed> = connected.into_iter().collect::<Result<_, _>>()?;
    // The process is the first URL's: only its subscribers count.
    let on_first = sockets.iter().filter(|(_, log, _)| log.node == 0).count();
    let memory = match (rss_before, args.server_pid.and_then(rss_kib)) {
        (Some(before), Some(after)) if on_first > 0 => Some((after - before) / on_first as f64),
        _ => None,
    };
    let (done_tx, done_rx) = tokio::sync::watch::channel(None);
    let readers: Vec<_> =
        sockets.into_iter().map(|(ws, log, checker)| tokio::spawn(read(ws, log, checker, done_rx.clone()))).collect();

    let cpu_before = args.server_pid.and_then(cpu_secs);
    let acked = Arc::new(Mutex::new(Vec::<Acked>::new()));
    let errors: Arc<Vec<AtomicU64>> = Arc::new(target.urls.iter().map(|_| AtomicU64::new(0)).collect());
    let started = Instant::now();
    let end = started + args.duration;
    let interval = (args.rate > 0.0).then(|| Duration::from_secs_f64(args.writers.max(1) as f64 / args.rate));
    progress.set_length(args.duration.as_secs().max(1));
    progress.set_position(0);
    progress.set_message("writing");
    let writers: Vec<_> = (0..args.writers.max(1))
        .map(|w| {
            let (target, acked, errors, mix, stores) =
                (target.clone(), acked.clone(), errors.clone(), mix.clone(), args.stores.clone());
            tokio::spawn(async move {
                let mut tick = interval.map(|i| {
                    let mut t = tokio::time::interval_at(tokio::time::Instant::now() + i.mul_f64(w as f64 / 4.0), i);
                    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    t
                });
                let mut n = w;
                while Instant::now() < end {
                    if let Some(t) = tick.as_mut() {
                        t.tick().await;
                    }
                    let mut pick = rand::thread_rng().gen_range(0..total_weight);
                    let op = mix
                        .iter()
                        .find(|(_, weight)| {
                            if pick < *weight {
                                true
                            } else {
                                pick -= weight;
                                false
                            }
                        })
                        .map_or(Op::Product, |(op, _)| *op);
                    let (store, node) = spread(n, stores.len(), target.urls.len());
                    n += 1;
                    let sent = Instant::now();
                    match target.write(node, op, &stores[store], &target.products[store]).await {
                        Some(seq) => lock(&acked).push(Acked { node, store, seq, sent, topic: op.topic() }),
                        None => {
                            errors[node].fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(250)).await;
        progress.set_position(started.elapsed().as_secs());
    }
    for w in writers {
        let _ = w.await;
    }
    let duration = started.elapsed();
    let acked = std::mem::take(&mut *lock(&acked));
    let mut goals = vec![0; args.stores.len()];
    for a in &acked {
        goals[a.store] = goals[a.store].max(a.seq);
    }
    progress.set_message("settling");
    let _ = done_tx.send(Some((Instant::now() + Duration::from_secs(args.settle_secs), goals)));
    let mut logs = Vec::with_capacity(readers.len());
    for r in readers {
        logs.push(r.await.map_err(|e| e.to_string())?);
    }
    progress.finish_and_clear();
    let errors: Vec<u64> = errors.iter().map(|e| e.load(Ordering::Relaxed)).collect();
    let mut report = Report::compute(&target.urls, &acked, &logs, &errors, duration, memory);
    if let (Some(before), Some(after)) = (cpu_before, args.server_pid.and_then(cpu_secs)) {
        report.set_server_cpu(after - before);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    } else {
        print!("{}", report.table());
    }
    Ok(report.clean())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mixed_scenario_writes_every_kind() {
        let mixed = parse_mix("mixed").unwrap();
        assert_eq!(mixed, parse_mix(MIXED).unwrap());
        for op in [Op::Product, Op::Sale, Op::Dashboard, Op::Page] {
            assert!(mixed.iter().any(|&(o, weight)| o == op && weight > 0), "{op:?}");
        }
    }
}
