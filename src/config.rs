//! Command line and environment configuration. The `///` docs are the
//! `--help` text; README.md has the same table. Config is passed down by
//! value, never read from the environment deep in the code, so tests can run
//! many servers in one process.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

/// storesync: real-time sync server for multi-store commerce back offices.
#[derive(Parser, Debug, Clone)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

/// What to do; `serve` when none is given.
#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Apply migrations, seed demo data on first start, and serve (default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Apply migrations and seed the demo data if the database is empty;
    /// with --stores, also add load-test stores.
    Seed(SeedArgs),
    /// Load-test a running server with real subscribers and writers.
    Load(Box<crate::load::LoadArgs>),
    /// Copy every table of the database into an empty one (e.g. SQLite to
    /// PostgreSQL), ids and seqs kept; stop the node first.
    MigrateTo {
        /// The target database: postgres://…, sqlite://… or a file path.
        #[arg(value_name = "DATABASE_URL")]
        target: String,
    },
}

/// Options of `storesync seed`.
#[derive(clap::Args, Debug, Clone)]
pub struct SeedArgs {
    /// Load-test stores to add beside the demo stores: `load-1` … `load-N`
    /// (existing ones are kept).
    #[arg(long, default_value_t = 0)]
    pub stores: usize,
    /// Products in each load-test store (1-100000), with 90 days of sales.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub products: u32,
}

/// How hard SQLite syncs commits to disk.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteSync {
    /// fsync on every commit: an acknowledged write survives power loss.
    Full,
    /// fsync at WAL checkpoints: survives a process crash, may lose the
    /// last commits on power loss; faster on slow disks.
    Normal,
}

/// A feature turned on or off.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    On,
    Off,
}

/// How log lines are written.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Server configuration, from flags or environment variables.
#[derive(Parser, Debug, Clone)]
pub struct Config {
    /// Address to listen on (port 0: any free port).
    #[arg(long, global = true, env = "STORESYNC_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Directory for the SQLite database and media files.
    #[arg(long, global = true, env = "STORESYNC_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The database: a PostgreSQL URL (postgres://user@host:port/db), an
    /// SQLite file path or sqlite:// URL; default: storesync.db in the data
    /// dir. Any other scheme is refused.
    #[arg(long, global = true, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// The cluster broker, a Redis URL (redis://host:port): every node that
    /// shares the PostgreSQL database and the broker serves every store.
    /// Unset: one node.
    #[arg(long, global = true, env = "STORESYNC_BROKER_URL")]
    pub broker_url: Option<String>,
    /// Directory of the browser pages.
    #[arg(long, global = true, env = "STORESYNC_STATIC_DIR", default_value = "./static")]
    pub static_dir: PathBuf,
    /// Directory of the built documentation book (`mdbook build` writes it
    /// to ./book), served at /docs; /docs answers 404 while it does not exist.
    #[arg(long, global = true, env = "STORESYNC_DOCS_DIR", default_value = "./book")]
    pub docs_dir: PathBuf,
    /// Fan-out flush window in milliseconds: at most one flush per window
    /// while busy; the first change after a quiet window goes out at once.
    /// 2 ms keeps fan-out p99 under 15 ms at 100 writes/s and still batches
    /// hundreds of writes per flush at saturation (docs/benchmarks.md).
    #[arg(long, global = true, env = "STORESYNC_FLUSH_WINDOW_MS", default_value_t = 2)]
    pub flush_window_ms: u64,
    /// Events each store actor keeps in memory for fast resume.
    #[arg(long, global = true, env = "STORESYNC_HISTORY_SIZE", default_value_t = 4096)]
    pub history_size: usize,
    /// Log filter (error, warn, info, debug, trace, or env_logger syntax).
    #[arg(long, global = true, env = "STORESYNC_LOG", default_value = "info")]
    pub log_level: String,
    /// SQLite durability: full (fsync per commit) or normal.
    #[arg(long, global = true, env = "STORESYNC_SQLITE_SYNC", value_enum, default_value_t = SqliteSync::Full)]
    pub sqlite_sync: SqliteSync,
    /// Most writes one group commit carries.
    #[arg(long, global = true, env = "STORESYNC_MAX_BATCH", default_value_t = 2000)]
    pub max_batch: usize,
    /// Password of the seeded demo users; random (printed once) when unset.
    #[arg(long, global = true, env = "STORESYNC_DEMO_PASSWORD", hide_env_values = true)]
    pub demo_password: Option<String>,
    /// Most events a resume replays from the database; a client further
    /// behind gets a snapshot.
    #[arg(long, global = true, env = "STORESYNC_MAX_REPLAY", default_value_t = 10_000)]
    pub max_replay: i64,
    /// Seconds without requests after which a store with no subscribers
    /// drops its live state from memory (reloaded on the next request);
    /// 0 keeps every store loaded.
    #[arg(long, global = true, env = "STORESYNC_STORE_IDLE_SECS", default_value_t = 600)]
    pub store_idle_secs: u64,
    /// Server heartbeat (WebSocket ping) interval in milliseconds; a client
    /// silent for two intervals is closed.
    #[arg(long, global = true, env = "STORESYNC_HEARTBEAT_MS", default_value_t = 15_000)]
    pub heartbeat_ms: u64,
    /// Frames a session may have queued before it is a slow consumer
    /// (queue dropped, `resync` sent).
    #[arg(long, global = true, env = "STORESYNC_OUTBOX_CAPACITY", default_value_t = 256)]
    pub outbox_capacity: usize,
    /// Largest WebSocket frame a client may send, in bytes.
    #[arg(long, global = true, env = "STORESYNC_MAX_FRAME_BYTES", default_value_t = 16 * 1024)]
    pub max_frame_bytes: usize,
    /// Stores one WebSocket session may subscribe to at once.
    #[arg(long, global = true, env = "STORESYNC_MAX_SUBSCRIPTIONS", default_value_t = 16)]
    pub max_subscriptions: usize,
    /// Client frames per second a session may send (bursts of twice that).
    #[arg(long, global = true, env = "STORESYNC_WS_FRAMES_PER_SEC", default_value_t = 50)]
    pub ws_frames_per_sec: u32,
    /// Refused client frames before a session is closed (code 1008).
    #[arg(long, global = true, env = "STORESYNC_WS_MAX_STRIKES", default_value_t = 20)]
    pub ws_max_strikes: u32,
    /// WebSocket compression (permessage-deflate) for clients that offer
    /// it: on or off.
    #[arg(long, global = true, env = "STORESYNC_WS_COMPRESSION", value_enum, default_value_t = Switch::On)]
    pub ws_compression: Switch,
    /// Extra origins allowed for cookie-authenticated WebSockets and REST
    /// writes (comma-separated; the server's own origin is always allowed).
    #[arg(long, global = true, env = "STORESYNC_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Addresses of reverse proxies whose `Forwarded` / `X-Forwarded-*`
    /// headers are believed (client address, host), comma-separated; from
    /// anyone else those headers are ignored.
    #[arg(long, global = true, env = "STORESYNC_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,
    /// Login attempts per minute per client IP, and failed logins per
    /// minute per username (then only the addresses that failed are refused).
    #[arg(long, global = true, env = "STORESYNC_LOGIN_ATTEMPTS_PER_MINUTE", default_value_t = 10)]
    pub login_attempts_per_minute: u32,
    /// Password hashes and checks (argon2id, 19 MiB each) running at once;
    /// default: twice the cores. Others wait up to a second, then get 503.
    #[arg(long, global = true, env = "STORESYNC_PASSWORD_CONCURRENCY")]
    pub password_concurrency: Option<usize>,
    /// Writes per second per principal (bursts of twice that): REST writes,
    /// imports, image uploads and WebSocket `publish_view` share it.
    #[arg(long, global = true, env = "STORESYNC_WRITES_PER_SEC", default_value_t = 2000)]
    pub writes_per_sec: u32,
    /// Open WebSockets per principal.
    #[arg(long, global = true, env = "STORESYNC_MAX_CONNECTIONS_PER_PRINCIPAL", default_value_t = 1000)]
    pub max_connections_per_principal: usize,
    /// Open WebSockets per client address (whatever the principal).
    #[arg(long, global = true, env = "STORESYNC_MAX_CONNECTIONS_PER_IP", default_value_t = 1000)]
    pub max_connections_per_ip: usize,
    /// Seconds a connection may keep data waiting that the client does not
    /// accept (it stopped reading, or vanished) before the connection is
    /// dropped (TCP_USER_TIMEOUT, Linux); 0 leaves it to the system.
    #[arg(long, global = true, env = "STORESYNC_WRITE_TIMEOUT_SECS", default_value_t = 30)]
    pub write_timeout_secs: u64,
    /// Seconds between re-checks of an open WebSocket's credential and
    /// grants; a revoked or expired one is closed (4001).
    #[arg(long, global = true, env = "STORESYNC_REVALIDATE_SECS", default_value_t = 10)]
    pub revalidate_secs: u64,
    /// Origins allowed to call the REST API from browsers (CORS),
    /// comma-separated; off when empty.
    #[arg(long, global = true, env = "STORESYNC_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// PEM certificate chain; with --tls-key, serve https and wss.
    #[arg(long, global = true, env = "STORESYNC_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, global = true, env = "STORESYNC_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Clients reach this server only through an https reverse proxy: mark
    /// the session cookie Secure and send HSTS, as with --tls-cert.
    #[arg(long, global = true, env = "STORESYNC_BEHIND_HTTPS_PROXY")]
    pub behind_https_proxy: bool,
    /// Bearer token required by GET /metrics; when unset, only loopback
    /// clients (not through a proxy) may read it.
    #[arg(long, global = true, env = "STORESYNC_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Seconds between sync-health samples (15 minutes are kept).
    #[arg(long, global = true, env = "STORESYNC_HEALTH_SAMPLE_SECS", default_value_t = 10)]
    pub health_sample_secs: u64,
    /// Alert when an interval's sync success ratio is below this.
    #[arg(long, global = true, env = "STORESYNC_ALERT_SYNC_SUCCESS", default_value_t = 0.999)]
    pub alert_sync_success: f64,
    /// Alert when an interval's p99 commit-to-socket latency is above this (ms).
    #[arg(long, global = true, env = "STORESYNC_ALERT_LATENCY_P99_MS", default_value_t = 500.0)]
    pub alert_latency_p99_ms: f64,
    /// Alert when resident memory per open WebSocket is above this (MiB).
    #[arg(long, global = true, env = "STORESYNC_ALERT_MEMORY_PER_CLIENT_MB", default_value_t = 100.0)]
    pub alert_memory_per_client_mb: f64,
    /// Alert when resyncs per minute are above this.
    #[arg(long, global = true, env = "STORESYNC_ALERT_RESYNCS_PER_MIN", default_value_t = 60.0)]
    pub alert_resyncs_per_min: f64,
    /// Alert when internal errors per minute are above this.
    #[arg(long, global = true, env = "STORESYNC_ALERT_ERRORS_PER_MIN", default_value_t = 10.0)]
    pub alert_errors_per_min: f64,
    /// Log format: text or json (one object per line).
    #[arg(long, global = true, env = "STORESYNC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Test hook: skip every Nth batch frame to one subscriber, so that load
    /// tests can prove they detect loss. Never set it in production.
    #[arg(long, global = true, hide = true, env = "STORESYNC_DEBUG_DROP_BATCH_EVERY")]
    pub debug_drop_batch_every: Option<u64>,
    /// Test hook: serve `/ws-echo`, an unauthenticated echo over the `/ws`
    /// transport, for the Autobahn TestSuite. Never set it in production.
    #[arg(long, global = true, hide = true, env = "STORESYNC_TEST_ECHO_ROUTE")]
    pub test_echo_route: bool,
    /// Largest image upload, in bytes.
    #[arg(long, global = true, env = "STORESYNC_MAX_IMAGE_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_image_bytes: usize,
    /// Image uploads decoded at once (a large image takes hundreds of MB
    /// while it is); default: one per core. Others wait up to a second,
    /// then get 503.
    #[arg(long, global = true, env = "STORESYNC_IMAGE_CONCURRENCY")]
    pub image_concurrency: Option<usize>,
    /// Seconds a request body may take to arrive in full, counted from its
    /// headers; a slower one gets 408 and its connection is closed.
    #[arg(long, global = true, env = "STORESYNC_BODY_TIMEOUT_SECS", default_value_t = 30)]
    pub body_timeout_secs: u64,
    /// Seconds between media garbage collections.
    #[arg(long, global = true, env = "STORESYNC_MEDIA_GC_SECS", default_value_t = 300)]
    pub media_gc_secs: u64,
    /// Minimum age in seconds of an unreferenced image before it is deleted
    /// (covers uploads in flight on other nodes).
    #[arg(long, global = true, env = "STORESYNC_MEDIA_GC_GRACE_SECS", default_value_t = 60)]
    pub media_gc_grace_secs: u64,
    /// Do not seed demo data into an empty database.
    #[arg(long, global = true, env = "STORESYNC_NO_SEED")]
    pub no_seed: bool,
    /// Sync analytics (time series in the database, docs/analytics.md) and
    /// the daily health reports: on or off.
    #[arg(long, global = true, env = "STORESYNC_ANALYTICS", value_enum, default_value_t = Switch::On)]
    pub analytics: Switch,
    /// Seconds between sync analytics rows (1-3600): the finest step, kept
    /// for a day before it is rolled up into hours.
    #[arg(long, global = true, env = "STORESYNC_ANALYTICS_INTERVAL_SECS", default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub analytics_interval_secs: u64,
    /// Days of sync analytics kept (1-3650).
    #[arg(long, global = true, env = "STORESYNC_ANALYTICS_RETENTION_DAYS", default_value_t = 7,
        value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub analytics_retention_days: u32,
    /// This node's name in the sync analytics and health reports; default:
    /// the host name.
    #[arg(long, global = true, env = "STORESYNC_NODE_NAME")]
    pub node_name: Option<String>,
}

/// Which database serves, from `--database-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file (the embedded default).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl Database {
    /// Where it is, for logs: the file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => redact_password(url),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for
/// logs (database and broker URLs).
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{name}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

impl Config {
    /// The database the config names, by its URL's scheme: never a guess,
    /// since SQLite would take a mistyped URL as a path and create it.
    pub fn database(&self) -> Result<Database, String> {
        let Some(url) = &self.database_url else {
            return Ok(Database::Sqlite(self.data_dir.join("storesync.db")));
        };
        match url.split_once("://") {
            Some(("postgres" | "postgresql", _)) => Ok(Database::Postgres(url.clone())),
            Some(("sqlite", path)) => Ok(Database::Sqlite(PathBuf::from(path))),
            Some((scheme, _)) => {
                Err(format!("unsupported database URL scheme {scheme:?}: use postgres://, sqlite:// or a file path"))
            }
            None if url.is_empty() => Err("the database URL is empty".into()),
            None => Ok(Database::Sqlite(PathBuf::from(url))),
        }
    }

    /// The broker URL when this node is one of a cluster. A cluster shares
    /// one PostgreSQL database: SQLite files are not shared between hosts.
    pub fn broker(&self) -> Result<Option<String>, String> {
        let Some(url) = &self.broker_url else {
            return Ok(None);
        };
        match url.split_once("://") {
            Some(("redis", _)) => {}
            Some((scheme, _)) => return Err(format!("unsupported broker URL scheme {scheme:?}: use redis://")),
            None => return Err(format!("the broker URL {url:?} has no scheme: use redis://host:port")),
        }
        match self.database()? {
            Database::Postgres(_) => Ok(Some(url.clone())),
            Database::Sqlite(_) => {
                Err("a cluster (--broker-url) needs a PostgreSQL database (--database-url postgres://…)".into())
            }
        }
    }

    /// Whether browsers reach the server over https: it serves TLS itself,
    /// or an https proxy fronts it. The session cookie is then `Secure` and
    /// answers carry HSTS.
    pub fn serves_https(&self) -> bool {
        (self.tls_cert.is_some() && self.tls_key.is_some()) || self.behind_https_proxy
    }

    /// The request body deadline (at least a second).
    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs.max(1))
    }

    /// This node's name: `--node-name`, else the host name, else `node`.
    pub fn node(&self) -> String {
        let host = || std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_owned());
        self.node_name.clone().or_else(host).filter(|n| !n.is_empty()).unwrap_or_else(|| "node".into())
    }

    /// The flush window as a duration.
    pub fn flush_window(&self) -> Duration {
        Duration::from_millis(self.flush_window_ms)
    }

    /// A configuration for tests and embedding: defaults, given data dir,
    /// ephemeral port.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        let mut config = Cli::parse_from(["storesync"]).config;
        config.addr = SocketAddr::from(([127, 0, 0, 1], 0));
        config.data_dir = data_dir;
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn database(url: &str) -> Result<Database, String> {
        let mut config = Config::parse_from(["storesync"]);
        config.database_url = Some(url.into());
        config.database()
    }

    #[test]
    fn the_database_is_chosen_by_the_url_scheme_never_guessed() {
        let pg = "postgres://postgres@127.0.0.1:5432/x";
        assert_eq!(database(pg), Ok(Database::Postgres(pg.into())));
        assert!(matches!(database("postgresql://h/db"), Ok(Database::Postgres(_))));
        assert_eq!(database("sqlite://data/a.db"), Ok(Database::Sqlite("data/a.db".into())));
        assert_eq!(database("data/a.db"), Ok(Database::Sqlite("data/a.db".into())));
        let refused = database("mysql://root@localhost/db").unwrap_err();
        assert!(refused.contains("\"mysql\""), "{refused}");
        assert!(database("").is_err());
    }

    #[test]
    fn a_cluster_needs_redis_and_postgresql() {
        let config = |database: &str, broker: &str| {
            let mut config = Config::parse_from(["storesync"]);
            config.database_url = Some(database.into());
            config.broker_url = Some(broker.into());
            config.broker()
        };
        let pg = "postgres://postgres@127.0.0.1:5432/x";
        assert_eq!(config(pg, "redis://127.0.0.1:6379"), Ok(Some("redis://127.0.0.1:6379".into())));
        assert!(config(pg, "nats://127.0.0.1:4222").unwrap_err().contains("\"nats\""));
        assert!(config(pg, "127.0.0.1:6379").is_err());
        assert!(config("data/a.db", "redis://127.0.0.1:6379").unwrap_err().contains("PostgreSQL"));
    }

    #[test]
    fn logged_database_urls_hide_the_password() {
        let described = Database::Postgres("postgres://app:s3cret@db:5432/shop".into()).describe();
        assert_eq!(described, "postgres://app:***@db:5432/shop");
        assert_eq!(redact_password("redis://:s3cret@cache:6379/0"), "redis://:***@cache:6379/0");
        assert_eq!(redact_password("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
