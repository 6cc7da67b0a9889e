//! The database: an r2d2 pool of SQLite connections (WAL, busy timeout,
//! foreign keys, the configured `synchronous`), embedded migrations, and
//! `blocking`, which runs diesel work on the blocking pool so it never holds
//! an actor's or an HTTP worker's thread. Diesel stops at this module: the
//! rest of the crate calls the named functions in `queries`.

pub mod models;
pub mod queries;
pub mod schema;
pub mod seed;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::{Config, SqliteSync};
use crate::error::ApiError;

/// The migrations compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// The connection type every query takes.
pub type Conn = SqliteConnection;
/// A shared pool of connections.
pub type DbPool = Pool<ConnectionManager<Conn>>;

#[derive(Debug)]
struct SqlitePragmas {
    synchronous: &'static str,
}

impl CustomizeConnection<Conn, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = 10000; PRAGMA synchronous = {}; PRAGMA foreign_keys = ON;",
            self.synchronous
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Opens (creating if needed) the database the config names.
pub fn connect(config: &Config) -> Result<DbPool, String> {
    let path = config.database_path();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let synchronous = match config.sqlite_sync {
        SqliteSync::Full => "FULL",
        SqliteSync::Normal => "NORMAL",
    };
    let url = path.to_string_lossy().into_owned();
    // WAL is a property of the file: set it once, before the pool opens
    // connections in parallel.
    let mut first =
        <Conn as diesel::Connection>::establish(&url).map_err(|e| format!("cannot open database {url}: {e}"))?;
    first
        .batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
        .map_err(|e| format!("cannot enable WAL on {url}: {e}"))?;
    let manager = ConnectionManager::<Conn>::new(url);
    Pool::builder()
        .max_size(16)
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(SqlitePragmas { synchronous }))
        .build(manager)
        .map_err(|e| format!("cannot open database {}: {e}", path.display()))
}

/// Applies pending migrations; returns how many ran.
pub fn migrate(pool: &DbPool) -> Result<usize, String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let applied = conn.run_pending_migrations(MIGRATIONS).map_err(|e| e.to_string())?;
    Ok(applied.len())
}

/// Whether every embedded migration has been applied.
pub fn migrations_current(conn: &mut Conn) -> Result<bool, ApiError> {
    conn.has_pending_migration(MIGRATIONS).map(|pending| !pending).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Runs `f` with a pooled connection on the blocking thread pool. The
/// future owns a clone of the pool, so actors can spawn it.
pub fn blocking<T, F>(pool: &DbPool, f: F) -> impl std::future::Future<Output = Result<T, ApiError>> + 'static
where
    F: FnOnce(&mut Conn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    async move {
        actix_web::rt::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
    }
}
