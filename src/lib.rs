//! storesync: a real-time data synchronization server for multi-store
//! commerce back offices, on the Actix actor system.
//!
//! # Layout
//! - `config`: command line and environment configuration.
//! - `app`: `AppState`, what handlers reach, and the background loops.
//! - `error`: `ApiError`, the one error type, with stable codes.
//! - `model`: the domain types (products, dashboard, sales, events, views),
//!   what a write is and what it produced (`model::change`).
//! - `wire`: the v1 frames and the bounded outbox, shared by both actors.
//! - `db`: the SQLite or PostgreSQL pool, migrations, named queries, group commit, demo seed.
//! - `store`: the supervised `StoreActor` per store, the `StoreRegistry`,
//!   and the publish seam (`store::publish`).
//! - `cluster`: several nodes over one PostgreSQL and a Redis broker: the
//!   broker side of the publish seam, presence across nodes, catch-up.
//! - `session`: the `SessionActor` per WebSocket.
//! - `auth`: passwords, tokens, the `Principal` and its store grants.
//! - `http`: the REST routes under `/api/v1`, one file per resource, and `/ws`.
//! - `ops`: Prometheus metrics, sync-health history and alerts, early
//!   warnings, sync analytics and daily health reports, request ids.
//! - `media`: image validation, renditions, content-addressed files, collection.
//! - `load`: `storesync load`, the load generator that verifies delivery.
//! - `counted`: per-key RAII counts (sockets per principal, pinned media) and
//!   the one `lock` helper.
//! - `testkit`: fixtures for unit tests and benches.
//!
//! Which module may use which is written in `docs/architecture.md` and
//! checked by `tests/architecture.rs`.
//!
//! A PATCH travels `http/products.rs` → `store/actor.rs` (group commit via
//! `db/queries/commit.rs`) → `store/publish.rs` (the committed batch) →
//! `store/state.rs` (live state) → `store/fanout.rs` (coalesce, serialize
//! once) → `wire/outbox.rs` (the socket).

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod cluster;
pub mod config;
pub mod counted;
pub mod db;
pub mod error;
pub mod http;
pub mod load;
pub mod media;
pub mod model;
pub mod ops;
pub mod session;
pub mod store;
pub mod testkit;
pub mod wire;

use std::net::{SocketAddr, TcpListener};

use actix_web::{middleware, web, App, HttpServer};

use crate::app::AppState;
use crate::config::Config;
use crate::db::seed::Seeded;

/// A started server.
pub struct Running {
    /// The bound address (the real port when asked for port 0).
    pub addr: SocketAddr,
    /// The server future; await it to serve until stopped.
    pub server: actix_web::dev::Server,
    /// Shared state, for embedding and tests.
    pub state: web::Data<AppState>,
}

/// Opens the database, applies migrations and seeds demo data on first
/// start; blocking, so call it off async threads.
pub fn prepare_database(config: &Config) -> Result<db::DbPool, String> {
    let pool = db::connect(config)?;
    let applied = db::migrate(&pool)?;
    let database = config.database()?.describe();
    log::info!(database = database.as_str(), migrations_applied = applied; "database ready");
    if config.no_seed {
        return Ok(pool);
    }
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let seeded = db::with_setup_lock(&mut conn, |conn| {
        db::seed::seed_if_empty(conn, config.demo_password.as_deref()).map_err(|e| format!("seeding failed: {e:?}"))
    })?;
    match seeded {
        Seeded::AlreadySeeded => log::info!(
            "demo users admin, editor, viewer keep their password (the one printed at first start, or STORESYNC_DEMO_PASSWORD)"
        ),
        Seeded::Created { generated_password: Some(password) } => {
            log::info!(password = password.as_str(); "demo data seeded; log in as admin, editor or viewer with this password (shown once)")
        }
        Seeded::Created { generated_password: None } => {
            log::info!("demo data seeded; log in as admin, editor or viewer with STORESYNC_DEMO_PASSWORD")
        }
    }
    Ok(pool)
}

/// `storesync seed`: prepares the database like a start (migrations, the
/// demo data when empty), then adds the load-test stores `args` asks for.
pub fn seed(config: &Config, args: &config::SeedArgs) -> Result<(), String> {
    let pool = prepare_database(config)?;
    if args.stores == 0 {
        return Ok(());
    }
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let added = db::with_setup_lock(&mut conn, |conn| {
        db::seed::seed_load_stores(conn, args.stores, args.products).map_err(|e| format!("seeding failed: {e:?}"))
    })?;
    log::info!(added, products = args.products; "load-test stores seeded");
    Ok(())
}

/// CORS for REST integrations calling from other origins' pages.
fn cors(origins: &[String]) -> actix_cors::Cors {
    origins
        .iter()
        .fold(actix_cors::Cors::default(), |c, o| c.allowed_origin(o))
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers(["authorization", "content-type", "if-match", "idempotency-key"])
        .expose_headers(["etag", "x-storesync-seq", "retry-after"])
        .max_age(3600)
}

/// The rustls server config from PEM files.
fn tls_config(cert: &std::path::Path, key: &std::path::Path) -> Result<rustls::ServerConfig, String> {
    use std::io::BufReader;
    let open =
        |p: &std::path::Path| std::fs::File::open(p).map(BufReader::new).map_err(|e| format!("{}: {e}", p.display()));
    let certs = rustls_pemfile::certs(&mut open(cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    let key = rustls_pemfile::private_key(&mut open(key)?)
        .map_err(|e| format!("{}: {e}", key.display()))?
        .ok_or_else(|| format!("{}: no private key", key.display()))?;
    rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS: {e}"))
}

/// Makes the kernel drop a connection whose client has accepted none of the
/// data waiting for it for `secs` seconds (0: the system's default).
/// Accepted connections inherit the option from the listener.
///
/// A client that stops reading fills the socket's buffers; actix-http then
/// stops polling the response body and waits for the socket, with no
/// timeout of its own, so neither a session's close nor its outbox can end
/// such a connection. Since Linux 5.11 TCP_USER_TIMEOUT also covers a peer
/// that keeps its receive window closed. Elsewhere the option is not set.
fn drop_stalled_connections(listener: &TcpListener, secs: u64) -> Result<(), String> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if secs > 0 {
        socket2::SockRef::from(listener)
            .set_tcp_user_timeout(Some(std::time::Duration::from_secs(secs)))
            .map_err(|e| format!("setting the write timeout: {e}"))?;
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = (listener, secs);
    Ok(())
}

/// Starts serving on `listener`: database, store registry, HTTP routes.
pub async fn run(listener: TcpListener, config: Config) -> Result<Running, String> {
    // A broker URL the node cannot use is refused before anything is
    // opened or created.
    config.broker()?;
    let prepared = config.clone();
    let pool =
        actix_web::rt::task::spawn_blocking(move || prepare_database(&prepared)).await.map_err(|e| e.to_string())??;
    let state = web::Data::new(AppState::build(config.clone(), pool).await?);
    AppState::spawn_background(&state);
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (server, scheme) = serve(state.clone(), &config, listener)?;
    log::info!("listening on {scheme}://{addr}");
    Ok(Running { addr, server, state })
}

/// Serves on `listener` (TLS when configured): middleware, the API routes
/// and the pages, one worker per core. Answers the server and its scheme.
fn serve(
    state: web::Data<AppState>,
    config: &Config,
    listener: TcpListener,
) -> Result<(actix_web::dev::Server, &'static str), String> {
    let static_dir = config.static_dir.clone();
    let docs_dir = config.docs_dir.clone();
    let cors_origins = config.cors_origins.clone();
    let https = config.serves_https();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::Data::from(state.authenticator.clone()))
            .app_data(web::Data::from(state.metrics.clone()))
            .wrap(middleware::Condition::new(!cors_origins.is_empty(), cors(&cors_origins)))
            .wrap(middleware::from_fn(http::body_deadline::enforce))
            .wrap(middleware::from_fn(ops::requests::track))
            // Method and path only: query strings may carry `?token=`.
            .wrap(
                middleware::Logger::new("%a %{method}xi %U %s %b %Dms id=%{x-request-id}o")
                    .custom_request_replace("method", |req| req.method().to_string())
                    .exclude("/ws"),
            )
            // Outermost: every answer gets them, errors and preflights too.
            .wrap(http::headers::security_headers(https))
            .configure(http::routes)
            .configure(|cfg| http::docs::book(cfg, &docs_dir))
            .configure(|cfg| http::pages(cfg, &static_dir))
    })
    .workers(cores)
    // Frames are small and latency-bound: Nagle would hold a frame back
    // until the client acknowledged the previous one (up to a delayed ACK).
    .tcp_nodelay(true)
    // With the WebSocket body's pieces (`wire::outbox::WRITE_CHUNK`), what
    // the dispatcher buffers stays inside the 8 KiB it allocated per
    // connection: a grown buffer would stay grown while the socket lives.
    .h1_write_buffer_size(wire::outbox::WRITE_CHUNK)
    // Each connection holds the counts of the WebSocket it carries (http::ws).
    .on_connect(http::ws::on_connect);
    drop_stalled_connections(&listener, config.write_timeout_secs)?;
    let (server, scheme) = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => {
            let tls = tls_config(cert, key)?;
            (server.listen_rustls_0_23(listener, tls).map_err(|e| e.to_string())?, "https")
        }
        _ => (server.listen(listener).map_err(|e| e.to_string())?, "http"),
    };
    Ok((server.run(), scheme))
}
