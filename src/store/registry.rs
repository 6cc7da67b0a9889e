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
//!
//! The catalog changes at runtime: a store created (`learn`), its settings
//! changed or archived (`learn` again with the committed row), or deleted
//! (`forget`, which retires its actor). In a cluster every node's catalog
//! follows the database: the cluster's database watch hands it every store
//! row once a second (`sync`). Each change bumps `changes`, which sessions
//! watch to send their clients the new store list. Guarded by
//! `tests/manage_stores.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix::prelude::*;

use super::actor::{StoreActor, StoreSettings};
use tokio::sync::watch;

use super::messages::{Hibernate, Retire, Wake};
use super::state::StoreMeta;
use crate::auth::{GrantedStore, Principal, Role};
use crate::counted::lock;
use crate::db::models::StoreRow;
use crate::db::queries::store_settings;
use crate::db::{self, DbPool};
use crate::error::ApiError;
use crate::model::store::NewStore;
use crate::model::{StoreId, StoreInfo};

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
    catalog: Mutex<HashMap<String, Arc<StoreMeta>>>,
    actors: Mutex<HashMap<StoreId, Running>>,
    /// Bumped by every change of the catalog.
    changes: watch::Sender<u64>,
}

/// A store's metadata; an unknown time zone (never written by us) is an
/// error.
fn meta_of(id: StoreId, info: StoreInfo) -> Result<StoreMeta, String> {
    let tz =
        info.time_zone.parse().map_err(|_| format!("store {} has unknown time zone {}", info.slug, info.time_zone))?;
    Ok(StoreMeta { id, info, tz })
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
            .iter()
            .map(|row| Ok((row.slug.clone(), Arc::new(meta_of(row.id, row.info())?))))
            .collect::<Result<_, String>>()?;
        let arbiters = (0..arbiters.max(1)).map(|_| Arbiter::new().handle()).collect();
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                settings: Arc::new(settings),
                arbiters,
                next_arbiter: AtomicUsize::new(0),
                catalog: Mutex::new(catalog),
                actors: Mutex::new(HashMap::new()),
                changes: watch::Sender::new(0),
            }),
        })
    }

    fn catalog(&self) -> MutexGuard<'_, HashMap<String, Arc<StoreMeta>>> {
        // A poisoned map is still a consistent map: entries are replaced whole.
        lock(&self.inner.catalog)
    }

    /// Every store, archived ones included, by id.
    pub fn stores(&self) -> Vec<Arc<StoreMeta>> {
        let mut all: Vec<Arc<StoreMeta>> = self.catalog().values().cloned().collect();
        all.sort_by_key(|m| m.id);
        all
    }

    /// The stores `who` holds a grant on, with the role; archived stores
    /// only where `who` is an admin.
    pub fn granted(&self, who: &Principal) -> Vec<GrantedStore> {
        self.stores()
            .into_iter()
            .filter_map(|meta| {
                let role = who.role(meta.id)?;
                meta.check_open(role, Role::Viewer).ok()?;
                Some(GrantedStore { store: meta.info.clone(), role })
            })
            .collect()
    }

    /// A store's metadata by slug.
    pub fn meta(&self, slug: &str) -> Result<Arc<StoreMeta>, ApiError> {
        self.catalog().get(slug).cloned().ok_or_else(|| ApiError::NotFound(format!("store {slug}")))
    }

    /// A receiver that sees every change of the catalog.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    fn changed(&self) {
        self.inner.changes.send_modify(|n| *n += 1);
    }

    /// Takes a store as committed: a new one, or new settings of a known
    /// one (the running actor follows its own commits).
    pub fn learn(&self, id: StoreId, info: StoreInfo) -> Result<(), String> {
        let meta = meta_of(id, info)?;
        let fresh = {
            let mut catalog = self.catalog();
            let known = catalog.get(&meta.info.slug);
            let fresh = known.is_none_or(|m| m.id != meta.id || m.info != meta.info);
            if fresh {
                catalog.insert(meta.info.slug.clone(), Arc::new(meta));
            }
            fresh
        };
        if fresh {
            self.changed();
        }
        Ok(())
    }

    /// Creates a store (the creator, when a user, becomes its admin) and
    /// adds it to the catalog; a taken slug is `conflict`. `by` goes to the
    /// audit log.
    pub async fn create(&self, by: &str, new: NewStore, creator: Option<i64>) -> Result<StoreInfo, ApiError> {
        let (now, by) = (chrono::Utc::now().naive_utc(), by.to_owned());
        let row =
            db::blocking(&self.inner.pool, move |conn| store_settings::create(conn, &by, &new, creator, now)).await?;
        self.learn(row.id, row.info()).map_err(ApiError::Internal)?;
        Ok(row.info())
    }

    /// Deletes an archived store with all its data (`store_not_archived`
    /// otherwise) and forgets it; `by` goes to the audit log.
    pub async fn delete(&self, by: &str, slug: &str) -> Result<(), ApiError> {
        let (id, by) = (self.meta(slug)?.id, by.to_owned());
        db::blocking(&self.inner.pool, move |conn| store_settings::delete_archived(conn, &by, id)).await?;
        self.forget(slug);
        Ok(())
    }

    /// Forgets a deleted store and retires its actor.
    pub fn forget(&self, slug: &str) {
        let Some(meta) = self.catalog().remove(slug) else {
            return;
        };
        if let Some(running) = self.actors().remove(&meta.id) {
            running.addr.do_send(Retire);
        }
        self.changed();
    }

    /// Makes the catalog what the database holds (`rows`: every store): the
    /// cluster's watch calls it, so stores created, changed or deleted on
    /// other nodes are known here within its interval.
    pub fn sync(&self, rows: &[StoreRow]) {
        for row in rows {
            if let Err(e) = self.learn(row.id, row.info()) {
                log::warn!(store = row.slug.as_str(), error = e.as_str(); "store left out of the catalog");
            }
        }
        let gone: Vec<String> =
            self.catalog().keys().filter(|slug| !rows.iter().any(|r| r.slug == **slug)).cloned().collect();
        for slug in gone {
            self.forget(&slug);
        }
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
