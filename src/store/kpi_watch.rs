//! The KPI watcher: on the health sampler's cadence (`--health-sample-secs`)
//! it evaluates every store's custom KPIs (`model::kpi`) on the live
//! figures of the stores loaded on this node, and raises each breached KPI
//! as an alert: logged as a warning when it starts firing and as info when
//! it clears, and listed with the built-in alerts (`GET /admin/alerts`,
//! the admin health panel) to the principals who may read the store.
//!
//! Cheap by construction: one read of the small `kpis` table and one
//! message per store with KPIs, answered from the live state with a handful
//! of numbers. Stores not loaded here (never asked for, or hibernated for
//! idleness) are not loaded for it and keep their last state.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::kpis::GetKpiInputs;
use super::StoreRegistry;
use crate::auth::Principal;
use crate::counted::lock;
use crate::db::{self, DbPool};
use crate::model::kpi::{KpiRule, KpiStatus};
use crate::model::StoreId;
use crate::ops::health::Alert;

/// The alert name of a breached KPI.
pub const KPI_ALERT: &str = "kpi_breached";

/// A breached KPI.
#[derive(Debug, Clone)]
struct Firing {
    message: String,
    since: DateTime<Utc>,
}

/// A KPI's state in one evaluation.
enum Seen {
    /// Not evaluated (the store is not loaded here): keeps its last state.
    Unknown,
    Clear,
    Breached(Firing),
}

/// The breached KPIs, by store and KPI name.
#[derive(Default)]
pub struct KpiWatch {
    firing: Mutex<BTreeMap<(StoreId, String), Firing>>,
}

impl KpiWatch {
    /// A watcher with nothing firing.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Evaluates forever every `interval` (spawn it).
    pub async fn run(self: Arc<Self>, pool: DbPool, registry: StoreRegistry, interval: Duration) {
        let mut tick = tokio::time::interval(interval);
        loop {
            tick.tick().await;
            if let Err(e) = self.evaluate(&pool, &registry).await {
                log::warn!(error = e.detail().as_str(); "KPI evaluation failed; retrying at the next sample");
            }
        }
    }

    /// Evaluates every KPI once.
    pub async fn evaluate(&self, pool: &DbPool, registry: &StoreRegistry) -> Result<(), crate::error::ApiError> {
        let rules = db::blocking(pool, db::queries::kpis::every).await?;
        let mut by_store: HashMap<StoreId, Vec<KpiRule>> = HashMap::new();
        for (store, rule) in rules {
            by_store.entry(store).or_default().push(rule);
        }
        let slugs: HashMap<StoreId, String> = registry.stores().iter().map(|m| (m.id, m.info.slug.clone())).collect();
        let mut seen = BTreeMap::new();
        for (store, rules) in by_store {
            let inputs = match (slugs.get(&store), registry.running_actor(store)) {
                (Some(slug), Some(actor)) => {
                    actor.send(GetKpiInputs).await.ok().and_then(Result::ok).map(|i| (slug, i))
                }
                _ => None,
            };
            for rule in rules {
                let state = match &inputs {
                    None => Seen::Unknown,
                    Some((slug, inputs)) => {
                        let kpi = rule.evaluate(inputs);
                        match kpi.status {
                            KpiStatus::Breached => {
                                Seen::Breached(Firing { message: kpi.alert_message(slug), since: Utc::now() })
                            }
                            _ => Seen::Clear,
                        }
                    }
                };
                seen.insert((store, rule.name), state);
            }
        }
        self.update(seen);
        Ok(())
    }

    /// Takes one evaluation of every KPI defined now; KPIs no longer
    /// defined are dropped.
    fn update(&self, mut seen: BTreeMap<(StoreId, String), Seen>) {
        let mut firing = lock(&self.firing);
        firing.retain(|(store, kpi), old| match seen.remove(&(*store, kpi.clone())) {
            Some(Seen::Unknown) => true,
            Some(Seen::Breached(now)) => {
                old.message = now.message;
                true
            }
            Some(Seen::Clear) | None => {
                log::info!(alert = KPI_ALERT, store = *store, kpi = kpi.as_str(); "alert cleared");
                false
            }
        });
        for (key, state) in seen {
            if let Seen::Breached(now) = state {
                log::warn!(alert = KPI_ALERT, message = now.message.as_str(); "alert firing");
                firing.insert(key, now);
            }
        }
    }

    /// The breached KPIs of the stores `who` may read, as alerts.
    pub fn alerts(&self, who: &Principal) -> Vec<Alert> {
        lock(&self.firing)
            .iter()
            .filter(|((store, _), _)| who.role(*store).is_some())
            .map(|(_, f)| Alert { name: KPI_ALERT, message: f.message.clone(), since: f.since })
            .collect()
    }
}
