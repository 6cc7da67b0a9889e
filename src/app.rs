//! `AppState`: the handles the HTTP layer reaches (pool, store registry,
//! limits, metrics, health, media), how they are built from the config, and
//! the background loops that serve them (idle stores, health samples, media
//! collection). Actors and extractors take only the parts they use.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;

use crate::auth::extract::Authenticator;
use crate::auth::identity;
use crate::auth::peer::TrustedProxies;
use crate::cluster::Cluster;
use crate::config::{Config, Switch};
use crate::counted::Gate;
use crate::db::{self, DbPool};
use crate::http::limits::RateLimits;
use crate::media::{self, MediaStore};
use crate::ops::analytics::Recorder;
use crate::ops::health::{HealthMonitor, Thresholds};
use crate::ops::metrics::Metrics;
use crate::ops::report;
use crate::session::{SessionHandles, SessionLimits};
use crate::store::kpi_watch::KpiWatch;
use crate::store::publish::{Publish, SingleNode};
use crate::store::{StoreRegistry, StoreSettings};

/// What every handler can reach.
pub struct AppState {
    pub pool: DbPool,
    pub registry: StoreRegistry,
    pub config: Config,
    pub sessions: Arc<SessionHandles>,
    pub rate_limits: RateLimits,
    pub metrics: Arc<Metrics>,
    pub health: Arc<HealthMonitor>,
    pub media: MediaStore,
    /// What the `Principal` extractor needs; also registered on its own.
    pub authenticator: Arc<Authenticator>,
    /// Places for argon2 work (logins, new passwords).
    pub password_gate: Gate,
    /// Places for image decoding.
    pub image_gate: Gate,
    /// This node's link to the other nodes, when it is one of a cluster.
    pub cluster: Option<Arc<Cluster>>,
    /// The custom KPIs breached now.
    pub kpis: Arc<KpiWatch>,
}

impl AppState {
    /// Builds the state on an opened, migrated database: loads the store
    /// list and starts the registry's arbiters.
    pub async fn build(config: Config, pool: DbPool) -> Result<Self, String> {
        let stores =
            db::blocking(&pool, |conn| Ok(db::queries::stores::all(conn)?)).await.map_err(|e| e.to_string())?;
        let metrics = Metrics::new();
        let cluster = match config.broker()? {
            Some(url) => Some(Cluster::connect(&url, metrics.clone()).await?),
            None => None,
        };
        let publish: Arc<dyn Publish> = match &cluster {
            Some(cluster) => cluster.clone(),
            None => Arc::new(SingleNode),
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let registry = StoreRegistry::new(pool.clone(), store_settings(&config, &metrics, publish), stores, cores)?;
        log::info!(data_dir:% = config.data_dir.display(), stores = registry.stores().len(); "store registry ready");
        let sample_every = Duration::from_secs(config.health_sample_secs.max(1));
        let rate_limits = RateLimits::new(&config);
        let sessions = Arc::new(SessionHandles {
            limits: session_limits(&config),
            registry: registry.clone(),
            writes: rate_limits.writes(),
            metrics: metrics.clone(),
            pool: pool.clone(),
        });
        let authenticator = Arc::new(Authenticator {
            pool: pool.clone(),
            allowed_origins: config.allowed_origins.clone(),
            trusted_proxies: TrustedProxies::new(&config.trusted_proxies),
        });
        Ok(Self {
            pool,
            registry,
            sessions,
            authenticator,
            rate_limits,
            password_gate: Gate::new(config.password_concurrency.unwrap_or(2 * cores), identity::PASSWORD_WAIT),
            image_gate: Gate::new(config.image_concurrency.unwrap_or(cores), media::PROCESS_WAIT),
            health: HealthMonitor::new(metrics.clone(), thresholds(&config), sample_every),
            metrics,
            media: MediaStore::new(&config.data_dir),
            cluster,
            kpis: KpiWatch::new(),
            config,
        })
    }

    /// Starts the background loops: health sampling, KPI alerts, idle-store
    /// hibernation, media collection, forgetting idle rate-limit entries,
    /// the scheduler of scheduled changes, sync analytics and daily reports
    /// (unless `--analytics off`), and in a cluster the broker's.
    pub fn spawn_background(state: &web::Data<AppState>) {
        if let Some(cluster) = &state.cluster {
            cluster.start(state.registry.clone(), state.pool.clone());
        }
        actix_web::rt::spawn(state.health.clone().run());
        let kpi_every = Duration::from_secs(state.config.health_sample_secs.max(1));
        actix_web::rt::spawn(state.kpis.clone().run(state.pool.clone(), state.registry.clone(), kpi_every));
        if state.config.store_idle_secs > 0 {
            actix_web::rt::spawn(hibernate_idle_stores(state.registry.clone(), state.config.store_idle_secs));
        }
        actix_web::rt::spawn(collect_media(state.clone()));
        actix_web::rt::spawn(forget_idle_limits(state.clone()));
        actix_web::rt::spawn(crate::store::scheduler::run(state.registry.clone(), state.pool.clone()));
        if state.config.analytics == Switch::On {
            let config = &state.config;
            let recorder = Recorder::new(
                state.metrics.clone(),
                state.health.clone(),
                state.pool.clone(),
                config.node(),
                Duration::from_secs(config.analytics_interval_secs),
                config.analytics_retention_days,
                config.data_dir.clone(),
            );
            actix_web::rt::spawn(recorder.run());
            actix_web::rt::spawn(report::run(state.pool.clone(), config.node()));
        }
    }
}

fn store_settings(config: &Config, metrics: &Arc<Metrics>, publish: Arc<dyn Publish>) -> StoreSettings {
    StoreSettings {
        metrics: metrics.clone(),
        debug_drop_batch_every: config.debug_drop_batch_every,
        history_size: config.history_size.max(1),
        max_batch: config.max_batch.max(1),
        flush_window: config.flush_window(),
        max_replay: config.max_replay.max(0),
        publish,
    }
}

fn session_limits(config: &Config) -> SessionLimits {
    SessionLimits {
        heartbeat: Duration::from_millis(config.heartbeat_ms.max(100)),
        outbox_capacity: config.outbox_capacity.max(8),
        max_subscriptions: config.max_subscriptions.max(1),
        frames_per_sec: NonZeroU32::new(config.ws_frames_per_sec).unwrap_or(NonZeroU32::MIN),
        max_strikes: config.ws_max_strikes.max(1),
        revalidate: Duration::from_secs(config.revalidate_secs.max(1)),
    }
}

fn thresholds(config: &Config) -> Thresholds {
    Thresholds {
        sync_success: config.alert_sync_success,
        latency_p99_ms: config.alert_latency_p99_ms,
        memory_per_client_bytes: config.alert_memory_per_client_mb * 1024.0 * 1024.0,
        resyncs_per_min: config.alert_resyncs_per_min,
        errors_per_min: config.alert_errors_per_min,
        expect_broker: config.broker_url.is_some(),
        outbox_capacity: config.outbox_capacity.max(8),
    }
}

/// Asks stores nobody used for `idle_secs` to drop their live state.
async fn hibernate_idle_stores(registry: StoreRegistry, idle_secs: u64) {
    let idle_after = Duration::from_secs(idle_secs);
    let mut tick = tokio::time::interval(idle_after / 4);
    loop {
        tick.tick().await;
        registry.hibernate_idle(idle_after);
    }
}

/// Drops rate-limit entries of clients whose budgets are full again.
async fn forget_idle_limits(state: web::Data<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        state.rate_limits.forget_idle();
    }
}

/// Deletes image files no product references, every `--media-gc-secs`.
async fn collect_media(state: web::Data<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(state.config.media_gc_secs.max(1)));
    tick.tick().await;
    loop {
        tick.tick().await;
        let grace = Duration::from_secs(state.config.media_gc_grace_secs);
        if let Err(e) = media::gc::collect(&state.pool, &state.media, grace).await {
            log::warn!(error = e.detail().as_str(); "media collection failed");
        }
    }
}
