//! Command line and environment configuration. The `///` docs are the
//! `--help` text; README.md has the same table. Config is passed down by
//! value, never read from the environment deep in the code, so tests can run
//! many servers in one process.

use std::net::SocketAddr;
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
    /// Apply migrations and seed the demo data if the database is empty.
    Seed,
    /// Load-test a running server with real subscribers and writers.
    Load(Box<crate::load::LoadArgs>),
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
    /// SQLite file path (or sqlite:// URL); default: storesync.db in the data dir.
    #[arg(long, global = true, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Directory of the browser pages.
    #[arg(long, global = true, env = "STORESYNC_STATIC_DIR", default_value = "./static")]
    pub static_dir: PathBuf,
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
    /// Extra origins allowed for cookie-authenticated WebSockets and REST
    /// writes (comma-separated; the server's own origin is always allowed).
    #[arg(long, global = true, env = "STORESYNC_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Login attempts per minute, per client IP and per username.
    #[arg(long, global = true, env = "STORESYNC_LOGIN_ATTEMPTS_PER_MINUTE", default_value_t = 10)]
    pub login_attempts_per_minute: u32,
    /// REST writes per second per principal (bursts of twice that).
    #[arg(long, global = true, env = "STORESYNC_WRITES_PER_SEC", default_value_t = 2000)]
    pub writes_per_sec: u32,
    /// Open WebSockets per principal.
    #[arg(long, global = true, env = "STORESYNC_MAX_CONNECTIONS_PER_PRINCIPAL", default_value_t = 1000)]
    pub max_connections_per_principal: usize,
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
    /// Largest image upload, in bytes.
    #[arg(long, global = true, env = "STORESYNC_MAX_IMAGE_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_image_bytes: usize,
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
}

impl Config {
    /// The SQLite file in use.
    pub fn database_path(&self) -> PathBuf {
        match &self.database_url {
            Some(url) => PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url)),
            None => self.data_dir.join("storesync.db"),
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
