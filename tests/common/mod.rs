//! Test harness: `spawn_app` starts the real server on an ephemeral port
//! over a fresh database (demo data seeded), and `Client` talks to it over
//! real HTTP. The database is an SQLite file in the app's data dir, or, when
//! `STORESYNC_TEST_POSTGRES` names a PostgreSQL server
//! (`postgres://postgres@127.0.0.1:5432/test`), a database of its own on
//! that server, dropped when the app is.
#![allow(dead_code)]

use std::net::TcpListener;

use reqwest::{header, Method, StatusCode};
use serde_json::Value;
use storesync::config::Config;
use tempfile::TempDir;

/// The demo users' password in tests.
pub const PASSWORD: &str = "test-password";

/// A running server and its data dir.
pub struct TestApp {
    pub base: String,
    pub state: actix_web::web::Data<storesync::app::AppState>,
    // Dropped before the dir: the database goes with the app.
    pub db: TestDatabase,
    pub dir: TempDir,
}

/// The database of one test server's data dir.
pub struct TestDatabase {
    /// `None` for SQLite: the file lives in the data dir.
    pub postgres_url: Option<String>,
}

/// The environment variable naming the PostgreSQL server tests run on.
pub const POSTGRES_ENV: &str = "STORESYNC_TEST_POSTGRES";

/// The file in a data dir that remembers its PostgreSQL database.
const POSTGRES_URL_FILE: &str = "postgres-url";

/// The PostgreSQL database of `dir` when tests run on PostgreSQL, made on
/// first use; `None` on SQLite.
pub fn postgres_url(dir: &std::path::Path) -> Option<String> {
    let server = std::env::var(POSTGRES_ENV).ok()?;
    let remembered = dir.join(POSTGRES_URL_FILE);
    if let Ok(url) = std::fs::read_to_string(&remembered) {
        return Some(url);
    }
    let url = postgres::create_database(&server);
    std::fs::write(&remembered, &url).unwrap();
    Some(url)
}

impl TestDatabase {
    /// Takes charge of the database of `dir`: dropped with this value.
    pub fn of(dir: &std::path::Path) -> Self {
        Self { postgres_url: postgres_url(dir) }
    }

    /// Runs SQL on the database directly, as another process would.
    pub fn execute(&self, dir: &std::path::Path, sql: &str) -> diesel::QueryResult<()> {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        match &self.postgres_url {
            Some(url) => diesel::PgConnection::establish(url).unwrap().batch_execute(sql),
            None => {
                let path = dir.join("storesync.db");
                let mut conn = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
                conn.batch_execute(&format!("PRAGMA busy_timeout = 5000; {sql}"))
            }
        }
    }
}

impl TestDatabase {
    /// Cuts every connection to this PostgreSQL database and refuses new
    /// ones (`false`), as an outage of the database server would, or lets
    /// them in again (`true`).
    pub fn set_reachable(&self, reachable: bool) {
        postgres::set_reachable(self.postgres_url.as_deref().expect("a PostgreSQL test database"), reachable);
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(url) = &self.postgres_url {
            postgres::drop_database(url);
        }
    }
}

/// Per-test PostgreSQL databases: `storesync_t_<pid>_<n>`, created from the
/// server's maintenance database and dropped with their app; databases left
/// by earlier runs whose process is gone are dropped at the first creation.
pub mod postgres {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Once;

    use diesel::connection::SimpleConnection;
    use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

    static NEXT: AtomicU32 = AtomicU32::new(0);
    static SWEEP: Once = Once::new();

    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }

    /// `postgres://host/db?params` → (`postgres://host`, `db`, `?params`).
    fn parts(url: &str) -> (&str, &str, &str) {
        let (base, params) = url.find('?').map_or((url, ""), |at| url.split_at(at));
        let (host, name) = base.rsplit_once('/').unwrap();
        (host, name, params)
    }

    pub fn create_database(server: &str) -> String {
        let mut conn =
            PgConnection::establish(server).unwrap_or_else(|e| panic!("{} {server}: {e}", super::POSTGRES_ENV));
        SWEEP.call_once(|| sweep(&mut conn));
        let name = format!("storesync_t_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        conn.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let (host, _, params) = parts(server);
        format!("{host}/{name}{params}")
    }

    pub fn drop_database(url: &str) {
        let (host, name, params) = parts(url);
        if let Ok(mut conn) = PgConnection::establish(&format!("{host}/postgres{params}")) {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }

    pub fn set_reachable(url: &str, reachable: bool) {
        let (host, name, params) = parts(url);
        let mut conn = PgConnection::establish(&format!("{host}/postgres{params}")).unwrap();
        conn.batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {reachable}")).unwrap();
        if !reachable {
            let cut = format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");
            conn.batch_execute(&cut).unwrap();
        }
    }

    /// Drops the databases of test processes that are gone.
    fn sweep(conn: &mut PgConnection) {
        let names: Vec<Name> = diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'storesync_t_%'")
            .load(conn)
            .unwrap_or_default();
        for Name { datname } in names {
            let pid = datname.split('_').nth(2).unwrap_or_default();
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {datname} WITH (FORCE)"));
            }
        }
    }
}

/// A test config over `dir`, on the dir's database.
pub fn test_config(dir: &std::path::Path) -> Config {
    let mut config = Config::for_data_dir(dir.to_path_buf());
    config.database_url = postgres_url(dir);
    config.demo_password = Some(PASSWORD.into());
    config.static_dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("static");
    config
}

/// Starts a server with the default test config.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after `tweak` adjusts its config.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    tweak(&mut config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let running = storesync::run(listener, config).await.unwrap();
    actix_web::rt::spawn(running.server);
    let db = TestDatabase::of(dir.path());
    TestApp { base: format!("http://{}", running.addr), state: running.state, db, dir }
}

impl TestApp {
    /// A client without credentials.
    pub fn anonymous(&self) -> Client {
        Client { http: reqwest::Client::new(), base: self.base.clone(), token: None }
    }

    /// A client logged in as a demo user.
    pub async fn login(&self, user: &str) -> Client {
        login_at(&self.base, user).await
    }
}

/// A client logged in as a demo user of the server at `base` (a child
/// process started with `start_server`, say).
pub async fn login_at(base: &str, user: &str) -> Client {
    let anon = Client { http: reqwest::Client::new(), base: base.to_owned(), token: None };
    let r = anon.post("/api/v1/auth/login", serde_json::json!({"username": user, "password": PASSWORD})).await;
    r.assert_status(200);
    let token = r.json["token"].as_str().unwrap().to_owned();
    Client { token: Some(token), ..anon }
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Resp {
    /// Panics with the body unless the status is `status`.
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        self
    }

    /// Panics unless the answer is an error with this status and code.
    pub fn assert_error(&self, status: u16, code: &str) -> &Self {
        self.assert_status(status);
        assert_eq!(self.json["error"]["code"], code, "body: {}", self.text);
        self
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A client of the test server, with an optional bearer token.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

impl Client {
    /// A request builder with the token set.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut b = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            b = b.bearer_auth(t);
        }
        b
    }

    /// Sends and reads the answer.
    pub async fn send(&self, b: reqwest::RequestBuilder) -> Resp {
        let r = b.send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, text, json }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(self.request(Method::POST, path).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(self.request(Method::PATCH, path).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.request(Method::DELETE, path)).await
    }

    /// Creates a product in a store and returns its JSON.
    pub async fn create_product(&self, store: &str, sku: &str, price: i64) -> Value {
        let r = self
            .post(&format!("/api/v1/stores/{store}/products"), serde_json::json!({"sku": sku, "name": format!("Test {sku}"), "price": price, "stock": 10, "status": "active"}))
            .await;
        r.assert_status(201);
        r.json["product"].clone()
    }

    /// The first product id of a store's default page.
    pub async fn first_product(&self, store: &str) -> Value {
        let r = self.get(&format!("/api/v1/stores/{store}/products?page_size=1")).await;
        r.assert_status(200);
        r.json["rows"][0].clone()
    }
}

/// Changes the stock of s1's first product `n` times; the last write's seq.
pub async fn write_n(admin: &Client, n: usize) -> i64 {
    let product = admin.first_product("s1").await;
    let mut seq = 0;
    for i in 0..n {
        let r = admin
            .patch(&format!("/api/v1/stores/s1/products/{}", product["id"]), serde_json::json!({"stock": 5000 + i}))
            .await;
        r.assert_status(200);
        seq = r.json["seq"].as_i64().unwrap();
    }
    seq
}

/// A real WebSocket client (tokio-tungstenite).
pub struct Ws {
    pub stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

/// How long a test waits for an expected frame.
pub const FRAME_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

impl TestApp {
    /// Opens `/ws` with a bearer token in the query and reads `hello`.
    pub async fn ws(&self, client: &Client) -> Ws {
        Ws::open(client).await
    }
}

impl Ws {
    /// Opens `/ws` of the client's server with its bearer token in the
    /// query and reads `hello`.
    pub async fn open(client: &Client) -> Ws {
        Ws::connect(&client.base, client.token.as_deref().unwrap_or("")).await.unwrap()
    }

    /// Opens `/ws` of the server at `base` with a bearer token in the query
    /// and reads `hello`; the error says why not (a refused upgrade's status).
    pub async fn connect(base: &str, token: &str) -> Result<Ws, String> {
        let url = format!("{}/ws?token={token}", base.replacen("http", "ws", 1));
        let (stream, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| e.to_string())?;
        let mut ws = Ws { stream };
        match ws.try_next(FRAME_TIMEOUT).await {
            Some(hello) if hello["type"] == "hello" => Ok(ws),
            other => Err(format!("expected hello, got {other:?}")),
        }
    }

    /// Sends a JSON text frame.
    pub async fn send(&mut self, frame: Value) {
        use futures_util::SinkExt;
        self.stream.send(tokio_tungstenite::tungstenite::Message::Text(frame.to_string())).await.unwrap();
    }

    /// The next text frame, as JSON, a `batch` in its full shape
    /// (`expand_batch`, what clients read); `None` when the socket closed.
    pub async fn try_next(&mut self, wait: std::time::Duration) -> Option<Value> {
        self.try_next_as_sent(wait).await.map(expand_batch)
    }

    /// The next text frame, as JSON, as the server sent it.
    pub async fn try_next_as_sent(&mut self, wait: std::time::Duration) -> Option<Value> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            match tokio::time::timeout(wait, self.stream.next()).await {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return None,
                Ok(Some(Ok(Message::Text(text)))) => return Some(serde_json::from_str(&text).unwrap()),
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next text frame; panics after `FRAME_TIMEOUT`.
    pub async fn next(&mut self) -> Value {
        self.try_next(FRAME_TIMEOUT).await.expect("no frame arrived")
    }

    /// Skips frames until one of type `kind` arrives.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Asserts that no frame of type `kind` arrives within `wait` (frames of
    /// other types are skipped).
    pub async fn assert_none_of(&mut self, kind: &str, wait: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        while let Some(frame) = self.try_next(deadline.saturating_duration_since(tokio::time::Instant::now())).await {
            assert_ne!(frame["type"], kind, "unexpected {frame}");
        }
    }

    /// Subscribes and returns the `subscribed` frame.
    pub async fn subscribe(&mut self, frame: Value) -> Value {
        self.send(frame).await;
        self.next_of("subscribed").await
    }

    /// The close frame's code, skipping text frames; `None` if the socket
    /// ended without one.
    pub async fn close_code(&mut self) -> Option<u16> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        while let Ok(Some(msg)) = tokio::time::timeout(FRAME_TIMEOUT, self.stream.next()).await {
            match msg {
                Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    }
}

/// A `batch` frame in its full shape, `from`, `to` and `events`, as
/// clients read it: a batch of one event carries the event's fields inline
/// and leaves out `from` and `to` where they are its seq
/// (docs/protocol.md). Other frames as they are.
pub fn expand_batch(mut frame: Value) -> Value {
    if frame["type"] != "batch" || frame.get("events").is_some() {
        return frame;
    }
    let fields = frame.as_object_mut().unwrap();
    let event: serde_json::Map<String, Value> = ["seq", "kind", "entity_id", "at", "by", "data"]
        .into_iter()
        .filter_map(|name| Some((name.to_owned(), fields.remove(name)?)))
        .collect();
    let seq = event.get("seq").cloned().expect("a batch has events or an inline event's seq");
    fields.entry("from").or_insert_with(|| seq.clone());
    fields.entry("to").or_insert(seq);
    fields.insert("events".into(), Value::Array(vec![Value::Object(event)]));
    frame
}

/// Applies batches to a seq the way a client must: each batch starts right
/// after the last applied seq; returns the events applied.
pub fn apply_batch(applied: &mut i64, batch: &Value) -> Vec<Value> {
    let from = batch["from"].as_i64().unwrap();
    let to = batch["to"].as_i64().unwrap();
    assert_eq!(from, *applied + 1, "gap or repeat before batch {batch}");
    let events = batch["events"].as_array().unwrap().clone();
    let mut last = *applied;
    for e in &events {
        let seq = e["seq"].as_i64().unwrap();
        assert!(seq > last && seq <= to, "events out of order in {batch}");
        last = seq;
    }
    *applied = to;
    events
}

/// Starts the real binary as a child process on an ephemeral port with
/// `args` added; returns it, its base URL and its collected log lines.
pub fn start_server(
    data_dir: &std::path::Path,
    args: &[&str],
) -> (std::process::Child, String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut command = Command::new(env!("CARGO_BIN_EXE_storesync"));
    // A PostgreSQL database made here outlives the child; the next run's
    // sweep drops it once this process is gone.
    match postgres_url(data_dir) {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
    let mut child = command
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(args)
        .env("STORESYNC_DEMO_PASSWORD", PASSWORD)
        .env("STORESYNC_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.split("listening on ").nth(1) {
                let _ = tx.send(addr.trim().to_owned());
            }
            log.lock().unwrap().push(line);
        }
    });
    let base = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("server did not start");
    (child, base, lines)
}

/// Runs `storesync load` against `urls` (one `--url` each); its output and JSON report.
pub fn run_load(urls: &[&str], settle_secs: &str) -> (std::process::Output, Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_storesync"))
        .arg("load")
        .args(urls.iter().flat_map(|url| ["--url", url]))
        .args(["--subscribers", "20", "--writers", "2", "--rate", "50", "--duration", "2s"])
        .args(["--mix", "product=60,sale=20,dashboard=10,page=10", "--settle-secs", settle_secs, "--json"])
        .env("STORESYNC_DEMO_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, report)
}

/// A WebSocket opened over a raw TCP socket, for bytes no WebSocket library
/// would send (a lying frame header) and for a client that stops reading.
/// `recv_buffer` shrinks the socket's receive buffer, so that a client that
/// does not read is backed up quickly.
pub async fn raw_ws(base: &str, token: &str, recv_buffer: Option<u32>) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    let mut stream = socket.connect(addr).await.unwrap();
    let head = format!(
        "GET /ws?token={token} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // Byte by byte, so that no frame after the answer's head is consumed.
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\n") {
        answer.push(stream.read_u8().await.unwrap());
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    stream
}

/// A client text frame, masked as RFC 6455 requires of clients.
pub fn masked_text(text: &str) -> Vec<u8> {
    let payload = text.as_bytes();
    let mut frame = vec![0x81];
    match payload.len() {
        short @ 0..=125 => frame.push(0x80 | short as u8),
        long => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(long as u16).to_be_bytes());
        }
    }
    let mask = [1u8, 2, 3, 4];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}
