//! `StoreRegistry`: the catalog of stores and their running actors. It
//! starts a store's actor on first use, under `actix::Supervisor`, on one
//! of a fixed pool of arbiters (one per core, round robin), and routes
//! callers to it by slug.
//!
//! It is a shared handle rather than an actor itself: every request
//! resolves a store, and a mutex-guarded map lookup is cheaper than a
//! mailbox round trip. It only starts actors; their supervisors restart them.
//!
//! Idle stores: a store routed to by nobody for `--store-idle-secs` is told
//! to `Hibernate`, and drops its live state if it has no subscribers and
//! nothing in flight; the next request routed to it is preceded by `Wake`,
//! which reloads it before that request is handled. The actor itself does
//! not stop, on purpose (`docs/architecture.md`, "Idle stores"): it (a
//! mailbox and a few fields) stays, so no second actor can ever start for a store while
//! an old one still holds messages: a store keeps exactly one writer. Both
//! messages are sent under the routing lock, so every mailbox sees them in
//! the order the routing decided. Guarded by `tests/ws_sync.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix::prelude::*;

use super::actor::{StoreActor, StoreSettings};
use super::messages::{Hibernate, Wake};
use super::state::StoreMeta;
use crate::counted::lock;
use crate::db::models::StoreRow;
use crate::db::DbPool;
use crate::error::ApiError;
use crate::model::StoreId;

/// A started store actor and when a request was last routed to it.
struct Running {
    addr: Addr<StoreActor>,
    routed_at: Instant,
    /// Told to hibernate and not woken since (it may have refused: `Wake`
    /// is harmless then).
    hibernating: bool,
}

struct Inner {
    pool: DbPool,
    settings: Arc<StoreSettings>,
    arbiters: Vec<ArbiterHandle>,
    next_arbiter: AtomicUsize,
    catalog: HashMap<String, StoreMeta>,
    actors: Mutex<HashMap<StoreId, Running>>,
}

/// Finds or starts store actors.
#[derive(Clone)]
pub struct StoreRegistry {
    inner: Arc<Inner>,
}

impl StoreRegistry {
    /// A registry over `stores`, with `arbiters` threads for store actors.
    pub fn new(pool: DbPool, settings: StoreSettings, stores: Vec<StoreRow>, arbiters: usize) -> Result<Self, String> {
        let catalog = stores
            .into_iter()
            .map(|row| {
                let tz = row
                    .time_zone
                    .parse()
                    .map_err(|_| format!("store {} has unknown time zone {}", row.slug, row.time_zone))?;
                Ok((row.slug.clone(), StoreMeta { id: row.id, info: row.info(), tz }))
            })
            .collect::<Result<_, String>>()?;
        let arbiters = (0..arbiters.max(1)).map(|_| Arbiter::new().handle()).collect();
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                settings: Arc::new(settings),
                arbiters,
                next_arbiter: AtomicUsize::new(0),
                catalog,
                actors: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Every store, by id.
    pub fn stores(&self) -> Vec<&StoreMeta> {
        let mut all: Vec<&StoreMeta> = self.inner.catalog.values().collect();
        all.sort_by_key(|m| m.id);
        all
    }

    /// A store's metadata by slug.
    pub fn meta(&self, slug: &str) -> Result<&StoreMeta, ApiError> {
        self.inner.catalog.get(slug).ok_or_else(|| ApiError::NotFound(format!("store {slug}")))
    }

    fn actors(&self) -> MutexGuard<'_, HashMap<StoreId, Running>> {
        // A poisoned map is still a consistent map: entries are replaced whole.
        lock(&self.inner.actors)
    }

    /// The actor of a store for a request: started if it is not running,
    /// woken if it hibernates.
    pub fn actor(&self, meta: &StoreMeta) -> Addr<StoreActor> {
        self.route(meta, true)
    }

    /// The actor of a store for a health probe, which neither wakes it nor
    /// keeps it awake.
    pub fn probe(&self, meta: &StoreMeta) -> Addr<StoreActor> {
        self.route(meta, false)
    }

    fn route(&self, meta: &StoreMeta, request: bool) -> Addr<StoreActor> {
        let mut actors = self.actors();
        if let Some(running) = actors.get_mut(&meta.id).filter(|r| r.addr.connected()) {
            if request {
                running.routed_at = Instant::now();
                if std::mem::take(&mut running.hibernating) {
                    running.addr.do_send(Wake);
                }
            }
            return running.addr.clone();
        }
        let n = self.inner.next_arbiter.fetch_add(1, Ordering::Relaxed) % self.inner.arbiters.len();
        let id = meta.id;
        let (meta, pool, settings) = (meta.clone(), self.inner.pool.clone(), self.inner.settings.clone());
        let addr =
            Supervisor::start_in_arbiter(&self.inner.arbiters[n], move |_| StoreActor::new(meta, pool, settings));
        actors.insert(id, Running { addr: addr.clone(), routed_at: Instant::now(), hibernating: false });
        addr
    }

    /// The running actors with their store ids, neither started nor woken:
    /// for the cluster's messages, which only stores with live state need.
    pub fn running(&self) -> Vec<(StoreId, Addr<StoreActor>)> {
        self.actors().iter().filter(|(_, r)| r.addr.connected()).map(|(id, r)| (*id, r.addr.clone())).collect()
    }

    /// A store's running actor, if it runs on this node.
    pub fn running_actor(&self, id: StoreId) -> Option<Addr<StoreActor>> {
        self.actors().get(&id).filter(|r| r.addr.connected()).map(|r| r.addr.clone())
    }

    /// Tells every store no request was routed to for `idle_after` to
    /// hibernate; it does so only without subscribers and work in flight,
    /// so a store that refused (its last subscriber leaves later, without a
    /// request) is asked again on the next call.
    pub fn hibernate_idle(&self, idle_after: Duration) {
        for running in self.actors().values_mut() {
            if running.routed_at.elapsed() >= idle_after {
                running.hibernating = true;
                running.addr.do_send(Hibernate);
            }
        }
    }
}
