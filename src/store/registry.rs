//! `StoreRegistry`: the catalog of stores and their running actors. It
//! starts a store's actor on first use, under `actix::Supervisor`, on one
//! of a fixed pool of arbiters (one per core, round robin), and routes
//! callers to it by slug.
//!
//! It is a shared handle rather than an actor itself: every request
//! resolves a store, and a mutex-guarded map lookup is cheaper than a
//! mailbox round trip. It only starts actors; their supervisors restart them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use actix::prelude::*;

use super::actor::{StoreActor, StoreSettings};
use super::state::StoreMeta;
use crate::db::models::StoreRow;
use crate::db::DbPool;
use crate::error::ApiError;
use crate::model::StoreId;

struct Inner {
    pool: DbPool,
    settings: Arc<StoreSettings>,
    arbiters: Vec<ArbiterHandle>,
    next_arbiter: AtomicUsize,
    catalog: HashMap<String, StoreMeta>,
    actors: Mutex<HashMap<StoreId, Addr<StoreActor>>>,
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

    /// The actor of a store, started if it is not running.
    pub fn actor(&self, meta: &StoreMeta) -> Addr<StoreActor> {
        // A poisoned map is still a consistent map: entries are only inserted.
        let mut actors = self.inner.actors.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(addr) = actors.get(&meta.id).filter(|a| a.connected()) {
            return addr.clone();
        }
        let n = self.inner.next_arbiter.fetch_add(1, Ordering::Relaxed) % self.inner.arbiters.len();
        let id = meta.id;
        let (meta, pool, settings) = (meta.clone(), self.inner.pool.clone(), self.inner.settings.clone());
        let addr =
            Supervisor::start_in_arbiter(&self.inner.arbiters[n], move |_| StoreActor::new(meta, pool, settings));
        actors.insert(id, addr.clone());
        addr
    }
}
