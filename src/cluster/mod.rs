//! The cluster: every node that shares the PostgreSQL database and the
//! Redis broker serves every store. Each node commits its own writes
//! through the database (the store's row lock orders seqs across nodes)
//! and publishes each committed batch on the broker; every other node's
//! store actor applies it in seq order (`StoreActor::accept`). The broker
//! is only a fast path: a node that misses a message, or loses the broker,
//! reads what it missed from the events table (`watch_seqs`, the store
//! actor's gap repair). `docs/architecture.md` ("The cluster") says why.
//!
//! Redis channels: `storesync:batch:<store id>` carries a `BatchMessage`,
//! `storesync:presence` a `PresenceMessage`; both JSON.

pub mod presence;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use self::presence::{RemotePresence, REPORT_EVERY};
use crate::config::redact_password;
use crate::counted::lock;
use crate::db::{self, DbPool};
use crate::model::change::CommittedBatch;
use crate::model::StoreId;
use crate::ops::metrics::Metrics;
use crate::store::messages::{CatchUp, Remote, RemotePresence as RemotePresenceMsg};
use crate::store::publish::Publish;
use crate::store::{StoreMeta, StoreRegistry};
use crate::wire::protocol::Presence;

const BATCH_CHANNEL: &str = "storesync:batch:";
const PRESENCE_CHANNEL: &str = "storesync:presence";
/// Messages waiting for the broker; past it they are dropped (the other
/// nodes repair from the database).
const QUEUE: usize = 65_536;
/// How often a node compares its stores with the database's seqs: while
/// the broker delivers, a safety net for a lost message; without it, the
/// way every batch arrives.
const WATCH_WITH_BROKER: Duration = Duration::from_secs(1);
const WATCH_WITHOUT_BROKER: Duration = Duration::from_millis(250);
/// How long a store behind the database waits for the broker's message.
const BROKER_GRACE: Duration = Duration::from_millis(500);

/// A committed batch as it travels between nodes: borrowed to publish,
/// owned when received.
#[derive(Serialize, Deserialize)]
struct BatchMessage<'a> {
    node: Cow<'a, str>,
    batch: Cow<'a, CommittedBatch>,
}

/// A node's subscribers of a store.
#[derive(Serialize, Deserialize)]
struct PresenceMessage {
    node: String,
    store: StoreId,
    counts: Presence,
}

/// A message for the broker.
struct Outgoing {
    channel: String,
    payload: Vec<u8>,
}

/// This node's link to the others.
pub struct Cluster {
    /// Random per process: a node tells its own messages from the others'.
    node: String,
    client: redis::Client,
    described: String,
    outgoing: mpsc::Sender<Outgoing>,
    queued: Mutex<Option<mpsc::Receiver<Outgoing>>>,
    up: AtomicBool,
    metrics: Arc<Metrics>,
    local: Mutex<HashMap<StoreId, Presence>>,
    remote: Mutex<RemotePresence>,
}

impl Cluster {
    /// Connects to the broker at `url`; an unreachable broker at start is
    /// an error (later outages are survived).
    pub async fn connect(url: &str, metrics: Arc<Metrics>) -> Result<Arc<Self>, String> {
        let described = redact_password(url);
        let client = redis::Client::open(url).map_err(|e| format!("invalid broker URL {described}: {e}"))?;
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| format!("cannot reach the broker {described}: {e}"))?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map_err(|e| format!("the broker {described} does not answer: {e}"))?;
        let (outgoing, queued) = mpsc::channel(QUEUE);
        let node = format!("{:016x}", rand::random::<u64>());
        log::info!(broker = described.as_str(), node = node.as_str(); "cluster node");
        Ok(Arc::new(Self {
            node,
            client,
            described,
            outgoing,
            queued: Mutex::new(Some(queued)),
            up: AtomicBool::new(false),
            metrics,
            local: Mutex::new(HashMap::new()),
            remote: Mutex::new(RemotePresence::default()),
        }))
    }

    /// Whether this node receives the broker's messages now.
    pub fn broker_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Starts the node's loops: sending to the broker, receiving from it,
    /// and watching the database's seqs.
    pub fn start(self: &Arc<Self>, registry: StoreRegistry, pool: DbPool) {
        if let Some(queued) = lock(&self.queued).take() {
            actix_web::rt::spawn(self.clone().send(queued));
        }
        actix_web::rt::spawn(self.clone().receive(registry.clone()));
        actix_web::rt::spawn(self.clone().watch_seqs(registry, pool));
    }

    fn queue(&self, channel: String, message: &impl Serialize) {
        // serde_json of our own types cannot fail.
        let payload = serde_json::to_vec(message).unwrap_or_default();
        if self.outgoing.try_send(Outgoing { channel, payload }).is_err() {
            self.metrics.broker_messages.with_label_values(&["dropped"]).inc();
        }
    }

    /// Publishes queued messages, as many per round trip as are waiting.
    async fn send(self: Arc<Self>, mut queued: mpsc::Receiver<Outgoing>) {
        let mut conn = None;
        let mut last_attempt: Option<Instant> = None;
        let mut messages = Vec::new();
        while queued.recv_many(&mut messages, 256).await > 0 {
            let count = messages.len() as u64;
            if conn.is_none() && last_attempt.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                last_attempt = Some(Instant::now());
                conn = self.client.get_multiplexed_async_connection().await.ok();
            }
            let mut pipe = redis::pipe();
            for message in messages.drain(..) {
                pipe.publish(message.channel, message.payload).ignore();
            }
            let sent = match conn.as_mut() {
                Some(c) => pipe.query_async::<()>(c).await.is_ok(),
                None => false,
            };
            if !sent {
                conn = None;
            }
            let outcome = if sent { "published" } else { "dropped" };
            self.metrics.broker_messages.with_label_values(&[outcome]).inc_by(count);
        }
    }

    /// Subscribes and hands each message to the store it is for; after an
    /// outage, subscribes again every second.
    async fn receive(self: Arc<Self>, registry: StoreRegistry) {
        loop {
            let subscribed = async {
                let mut pubsub = self.client.get_async_pubsub().await?;
                pubsub.psubscribe("storesync:*").await?;
                Ok::<_, redis::RedisError>(pubsub)
            };
            match tokio::time::timeout(Duration::from_secs(2), subscribed).await {
                Ok(Ok(mut pubsub)) => {
                    self.set_up(true);
                    let mut stream = pubsub.on_message();
                    while let Some(message) = stream.next().await {
                        self.deliver(message.get_channel_name(), message.get_payload_bytes(), &registry);
                    }
                }
                Ok(Err(e)) => log::debug!(error:% = e; "broker subscription failed"),
                Err(_) => log::debug!("broker subscription timed out"),
            }
            self.set_up(false);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    fn set_up(&self, up: bool) {
        if self.up.swap(up, Ordering::Relaxed) == up {
            return;
        }
        self.metrics.broker_up.set(i64::from(up));
        if up {
            log::info!(broker = self.described.as_str(); "broker connected: batches arrive by the broker");
        } else {
            log::error!(broker = self.described.as_str(); "broker down: delivering by reading the database; retrying every second");
        }
    }

    fn deliver(&self, channel: &str, payload: &[u8], registry: &StoreRegistry) {
        let received = if channel.starts_with(BATCH_CHANNEL) {
            serde_json::from_slice::<BatchMessage>(payload).map(|m| {
                if m.node != self.node {
                    if let Some(actor) = registry.running_actor(m.batch.store_id) {
                        actor.do_send(Remote(m.batch.into_owned()));
                    }
                }
            })
        } else if channel == PRESENCE_CHANNEL {
            serde_json::from_slice::<PresenceMessage>(payload).map(|m| {
                if m.node != self.node {
                    lock(&self.remote).report(m.store, &m.node, m.counts, Instant::now());
                    self.tell_presence(m.store, registry);
                }
            })
        } else {
            return;
        };
        match received {
            Ok(()) => self.metrics.broker_messages.with_label_values(&["received"]).inc(),
            Err(e) => {
                // The store's watch repairs what the message carried.
                log::warn!(channel = channel, error:% = e; "unparsable broker message; the database fills the gap");
                self.metrics.broker_messages.with_label_values(&["unparsable"]).inc();
            }
        }
    }

    fn tell_presence(&self, store: StoreId, registry: &StoreRegistry) {
        if let Some(actor) = registry.running_actor(store) {
            actor.do_send(RemotePresenceMsg(lock(&self.remote).total(store)));
        }
    }

    /// Brings the store catalog in line with the database's stores,
    /// compares every running store with the database's seq (a store
    /// behind it repairs after the broker's grace, or at once while the
    /// broker is down), repeats this node's presence counts and forgets
    /// those of nodes that went silent.
    async fn watch_seqs(self: Arc<Self>, registry: StoreRegistry, pool: DbPool) {
        let mut reported = Instant::now();
        loop {
            let up = self.broker_up();
            tokio::time::sleep(if up { WATCH_WITH_BROKER } else { WATCH_WITHOUT_BROKER }).await;
            let running = registry.running();
            match db::blocking(&pool, |conn| Ok(db::queries::stores::all(conn)?)).await {
                Ok(rows) => {
                    // Stores created, changed or deleted by other nodes.
                    registry.sync(&rows);
                    let seqs: HashMap<StoreId, i64> = rows.iter().map(|r| (r.id, r.seq)).collect();
                    let grace = if up { BROKER_GRACE } else { Duration::ZERO };
                    for (id, actor) in &running {
                        if let Some(&seq) = seqs.get(id) {
                            actor.do_send(CatchUp { seq, grace });
                        }
                    }
                }
                Err(e) => log::warn!(error:% = e; "reading the stores' seqs failed"),
            }
            if reported.elapsed() >= REPORT_EVERY {
                reported = Instant::now();
                let local: Vec<(StoreId, Presence)> = lock(&self.local).iter().map(|(s, p)| (*s, *p)).collect();
                for (store, counts) in local {
                    self.queue(PRESENCE_CHANNEL.into(), &PresenceMessage { node: self.node.clone(), store, counts });
                }
            }
            lock(&self.remote).expire(Instant::now());
            for (id, _) in &running {
                self.tell_presence(*id, &registry);
            }
        }
    }
}

impl Publish for Cluster {
    fn publish(&self, store: &StoreMeta, batch: &CommittedBatch) {
        let message = BatchMessage { node: Cow::Borrowed(&self.node), batch: Cow::Borrowed(batch) };
        self.queue(format!("{BATCH_CHANNEL}{}", store.id), &message);
    }

    fn presence(&self, store: &StoreMeta, local: Presence) {
        {
            let mut counts = lock(&self.local);
            if local == Presence::default() {
                counts.remove(&store.id);
            } else {
                counts.insert(store.id, local);
            }
        }
        self.queue(
            PRESENCE_CHANNEL.into(),
            &PresenceMessage { node: self.node.clone(), store: store.id, counts: local },
        );
    }
}
