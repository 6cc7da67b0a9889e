//! The database: an r2d2 pool of connections to SQLite (WAL, busy timeout,
//! foreign keys, the configured `synchronous`) or PostgreSQL, chosen by the
//! URL's scheme; the embedded migrations of each backend; `write_transaction`
//! (SQLite's `BEGIN IMMEDIATE`, PostgreSQL's plain `BEGIN`); and `blocking`,
//! which runs diesel work on the blocking pool so it never holds an actor's
//! or an HTTP worker's thread. Diesel stops at this module: the rest of the
//! crate calls the named functions in `queries`. The few statements the two
//! backends word differently (upserts, row locks) go through `each_backend!`.

pub mod migrate_to;
pub mod models;
pub mod queries;
pub mod schema;
pub mod seed;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::{Config, Database, SqliteSync};
use crate::error::ApiError;

/// The SQLite migrations compiled into the binary.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// The PostgreSQL migrations: the same schema in PostgreSQL's words.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The connection type every query takes: one of the two backends.
#[derive(diesel::MultiConnection)]
pub enum Conn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// A shared pool of connections.
pub type DbPool = Pool<Connector>;

/// Opens connections of the backend the config chose, and never the other:
/// diesel's own manager would try each backend in turn, and SQLite accepts
/// any string as a file to create.
#[derive(Debug, Clone)]
pub struct Connector(Database);

impl ManageConnection for Connector {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        let conn = match &self.0 {
            Database::Sqlite(path) => SqliteConnection::establish(&path.to_string_lossy()).map(Conn::Sqlite),
            Database::Postgres(url) => PgConnection::establish(url).map(Conn::Pg),
        };
        conn.map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.is_broken()
    }
}

/// Runs the same statement on whichever backend `conn` is: for the few
/// statements diesel's common backend cannot express (upserts).
#[macro_export]
macro_rules! each_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($c) => $body,
            $crate::db::Conn::Pg($c) => $body,
        }
    };
}

impl Conn {
    fn migrations(&self) -> EmbeddedMigrations {
        match self {
            Self::Sqlite(_) => SQLITE_MIGRATIONS,
            Self::Pg(_) => POSTGRES_MIGRATIONS,
        }
    }
}

#[derive(Debug)]
struct SqlitePragmas {
    synchronous: &'static str,
}

impl CustomizeConnection<Conn, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), diesel::r2d2::Error> {
        let Conn::Sqlite(conn) = conn else { return Ok(()) };
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = 10000; PRAGMA synchronous = {}; PRAGMA foreign_keys = ON;",
            self.synchronous
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Opens the database the config names (creating an SQLite file if needed).
pub fn connect(config: &Config) -> Result<DbPool, String> {
    match config.database()? {
        Database::Sqlite(path) => connect_sqlite(&path, config.sqlite_sync),
        Database::Postgres(url) => connect_postgres(&url),
    }
}

fn connect_sqlite(path: &std::path::Path, sync: SqliteSync) -> Result<DbPool, String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let synchronous = match sync {
        SqliteSync::Full => "FULL",
        SqliteSync::Normal => "NORMAL",
    };
    let url = path.to_string_lossy().into_owned();
    // WAL is a property of the file: set it once, before the pool opens
    // connections in parallel.
    let mut first = SqliteConnection::establish(&url).map_err(|e| format!("cannot open database {url}: {e}"))?;
    first
        .batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
        .map_err(|e| format!("cannot enable WAL on {url}: {e}"))?;
    let manager = Connector(Database::Sqlite(path.to_owned()));
    Pool::builder()
        .max_size(16)
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(SqlitePragmas { synchronous }))
        .build(manager)
        .map_err(|e| format!("cannot open database {}: {e}", path.display()))
}

fn connect_postgres(url: &str) -> Result<DbPool, String> {
    let described = Database::Postgres(url.to_owned()).describe();
    // One attempt first: an unreachable server is one line at once, not
    // the pool's retries logged for its whole connection timeout.
    PgConnection::establish(url).map_err(|e| {
        let reason = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
        format!("cannot connect to database {described}: {reason}")
    })?;
    Pool::builder()
        .max_size(16)
        .connection_timeout(Duration::from_secs(10))
        .build(Connector(Database::Postgres(url.to_owned())))
        .map_err(|e| format!("cannot connect to database {described}: {e}"))
}

/// Runs `f` in a transaction that takes the database's write lock up front
/// (SQLite: `BEGIN IMMEDIATE`, so two writers never deadlock upgrading a
/// read; PostgreSQL: `BEGIN`, row locks are taken by the statements).
pub fn write_transaction<T, E, F>(conn: &mut Conn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        Conn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        Conn::Pg(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            Conn::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            Conn::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// Runs `f` in a read-only transaction that sees one moment of the
/// database: SQLite's reads in a transaction already do; PostgreSQL's
/// default (read committed) sees each statement's own moment, so the
/// transaction asks for repeatable read.
pub fn snapshot_transaction<T, E, F>(conn: &mut Conn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        if let Conn::Pg(c) = conn {
            c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(conn)
    })
}

/// Applies pending migrations; returns how many ran.
pub fn migrate(pool: &DbPool) -> Result<usize, String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    with_setup_lock(&mut conn, |conn| {
        let migrations = conn.migrations();
        let applied = conn.run_pending_migrations(migrations).map_err(|e| e.to_string())?;
        Ok(applied.len())
    })
}

/// Runs `f` (migrations, the demo seed) holding the database's setup lock,
/// so the nodes of a cluster that start together set it up one at a time:
/// a PostgreSQL advisory lock; an SQLite file has one node.
pub fn with_setup_lock<T>(conn: &mut Conn, f: impl FnOnce(&mut Conn) -> Result<T, String>) -> Result<T, String> {
    const SETUP_LOCK: &str = "7265727665"; // any constant key shared by every node
    let Conn::Pg(pg) = conn else { return f(conn) };
    pg.batch_execute(&format!("SELECT pg_advisory_lock({SETUP_LOCK})")).map_err(|e| format!("setup lock: {e}"))?;
    let result = f(conn);
    if let Conn::Pg(pg) = conn {
        pg.batch_execute(&format!("SELECT pg_advisory_unlock({SETUP_LOCK})"))
            .map_err(|e| format!("setup lock: {e}"))?;
    }
    result
}

/// Whether every embedded migration has been applied.
pub fn migrations_current(conn: &mut Conn) -> Result<bool, ApiError> {
    let migrations = conn.migrations();
    conn.has_pending_migration(migrations).map(|pending| !pending).map_err(|e| ApiError::Internal(e.to_string()))
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
