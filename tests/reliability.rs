//! Reliability: the real binary, as a child process, over a real SQLite file.
//!
//! - Faults of the database: its filesystem full (a small tmpfs), the file
//!   locked by another process (this one, holding `BEGIN EXCLUSIVE`), its
//!   files read-only (the immutable attribute on an ext4 loop mount: we run
//!   as root, which ignores permissions, and a filesystem with the database
//!   open cannot be remounted read-only). During each, every write is either
//!   acknowledged or refused with `503 unavailable` and `Retry-After`, never
//!   a 500, and the log says why; reads go on; once the fault ends, writes succeed again
//!   without a restart; after a restart every acknowledged write is there.
//! - A reconnect storm: `STORESYNC_STORM_CLIENTS` subscribers (default
//!   5,000) reconnect with `since` at once right after the server was killed
//!   and restarted, while writes go on: each resumes by replay, without a gap.
//! - Stalled readers at scale: 100 subscribers that never read among 900
//!   that do. The readers get every event, the stalled connections are
//!   dropped, and the server's memory and sockets stay bounded.
//! - Logins give their 19 MiB of argon2id memory back (what `scripts/soak`
//!   found).
//!
//! The faults need root (they mount filesystems); without it they are
//! skipped with a message. Durations are printed (`--nocapture`), never
//! asserted; `docs/reliability.md` has the figures and how to re-run them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Client, Ws};
use futures_util::StreamExt;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

/// A server child process, killed (SIGKILL) when dropped, also when a test fails.
struct Server {
    child: std::process::Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(data: &Path, args: &[&str]) -> Self {
        let (child, base, log) = common::start_server(data, args);
        Self { child, base, log }
    }

    /// Log lines that contain `what`.
    fn logged(&self, what: &str) -> Vec<String> {
        self.log.lock().unwrap().iter().filter(|line| line.contains(what)).cloned().collect()
    }

    /// Resident memory (KiB) and open file descriptors, from /proc.
    fn usage(&self) -> (u64, usize) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let rss = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).unwrap();
        let fds = std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).unwrap().count();
        (rss.trim().trim_end_matches("kB").trim().parse().unwrap(), fds)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command; its stderr when it fails.
fn sh(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program).args(args).output().map_err(|e| format!("{program}: {e}"))?;
    match out.status.success() {
        true => Ok(()),
        false => Err(format!("{program} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim())),
    }
}

/// A filesystem the test mounts on a directory of its own, unmounted when
/// dropped; the server's data dir is `data()` on it.
struct Mount {
    root: tempfile::TempDir,
}

impl Mount {
    /// A tmpfs of `size` (as mount(8) writes it: `64m`).
    fn tmpfs(size: &str) -> Option<Self> {
        Self::new(|mnt| sh("mount", &["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs", mnt]))
    }

    /// An ext4 filesystem of `mib` MiB in an image file, loop-mounted.
    fn ext4(mib: u64) -> Option<Self> {
        Self::new(|mnt| {
            let image = format!("{mnt}.img");
            std::fs::File::create(&image).and_then(|f| f.set_len(mib << 20)).map_err(|e| e.to_string())?;
            sh("mkfs.ext4", &["-q", "-F", "-m", "0", &image])?;
            sh("mount", &["-o", "loop", &image, mnt])
        })
    }

    fn new(mount: impl FnOnce(&str) -> Result<(), String>) -> Option<Self> {
        if std::env::var(common::POSTGRES_ENV).is_ok() {
            eprintln!("SKIPPED: a fault of the SQLite file; the suite runs on PostgreSQL");
            return None;
        }
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("mnt")).unwrap();
        match mount(root.path().join("mnt").to_str().unwrap()) {
            Ok(()) => Some(Self { root }),
            Err(e) => {
                eprintln!("SKIPPED: cannot mount a test filesystem (this test needs root): {e}");
                None
            }
        }
    }

    fn data(&self) -> PathBuf {
        self.root.path().join("mnt/data")
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = sh("umount", &["-l", self.root.path().join("mnt").to_str().unwrap()]);
    }
}

/// Creates a product in s1 with a long name (so the database grows): its
/// id once acknowledged, else the answer.
async fn create(admin: &Client, sku: &str) -> Result<i64, common::Resp> {
    let r = admin.post("/api/v1/stores/s1/products", json!({"sku": sku, "name": "n".repeat(200), "price": 1})).await;
    match r.status.as_u16() {
        201 => Ok(r.json["product"]["id"].as_i64().unwrap()),
        _ => Err(r),
    }
}

/// The fault scenario (see the module doc): `start` begins the fault on the
/// data dir, `end` ends it, and the server's log must say `cause`.
async fn writes_through_a_fault<F>(data: &Path, start: impl FnOnce(&Path) -> F, end: impl FnOnce(F), cause: &str) {
    let server = Server::start(data, &[]);
    let admin = common::login_at(&server.base, "admin").await;
    let mut acked = vec![create(&admin, "BEFORE").await.expect("a write before the fault")];
    let fault = start(data);
    let started = Instant::now();
    // Four writers, each until the server refuses one of its writes.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let admin = admin.clone();
            actix_web::rt::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..20_000 {
                    match create(&admin, &format!("FAULT-{w}-{i}")).await {
                        Ok(id) => acked.push(id),
                        Err(refused) => return (acked, refused),
                    }
                }
                panic!("20,000 writes went through the fault");
            })
        })
        .collect();
    for writer in writers {
        let (ids, refused) = writer.await.unwrap();
        acked.extend(ids);
        refused.assert_error(503, "unavailable");
        assert_eq!(refused.header("retry-after"), Some("1"));
    }
    // Reads go on: the restarted store reloaded from the database, which
    // can still be read.
    admin.get("/api/v1/stores/s1/products?page_size=1").await.assert_status(200);
    let ready = admin.get("/readyz").await.status;
    let logged = server.logged("group commit failed");
    assert!(logged.iter().any(|line| line.contains(cause)), "no log line says {cause:?}: {logged:?}");
    eprintln!(
        "{} writes acknowledged during the fault, then 503 for every writer within {:?}; reads 200, /readyz {ready}; \
         the log says: {}",
        acked.len() - 1,
        started.elapsed(),
        logged[0]
    );
    end(fault);
    // The server recovers by itself: writes are acknowledged again.
    let ended = Instant::now();
    for attempt in 0.. {
        match create(&admin, &format!("AFTER-{attempt}")).await {
            Ok(id) => {
                acked.push(id);
                break;
            }
            Err(refused) => {
                refused.assert_error(503, "unavailable");
                assert!(ended.elapsed() < Duration::from_secs(60), "writes still refused a minute after the fault");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    eprintln!("writes acknowledged again {:?} after the fault ended", ended.elapsed());
    // Nothing acknowledged was lost: every write is on disk for a new process.
    drop(server);
    let server = Server::start(data, &[]);
    let admin = common::login_at(&server.base, "admin").await;
    for id in &acked {
        admin.get(&format!("/api/v1/stores/s1/products/{id}")).await.assert_status(200);
    }
}

#[actix_web::test]
async fn a_full_filesystem_refuses_writes_with_503_and_recovers_when_space_is_freed() {
    let Some(fs) = Mount::tmpfs("64m") else { return };
    let fill = |data: &Path| {
        use std::io::Write;
        let filler = data.with_file_name("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 << 10];
        while file.write_all(&chunk).is_ok() {}
        while file.write_all(&chunk[..4096]).is_ok() {}
        // Room for a few hundred writes, so some are acknowledged on the
        // way into the fault and must survive it too.
        let full = file.metadata().unwrap().len();
        file.set_len(full - (1 << 20)).unwrap();
        filler
    };
    writes_through_a_fault(&fs.data(), fill, |filler| std::fs::remove_file(filler).unwrap(), "full").await;
}

#[actix_web::test]
async fn a_database_locked_by_another_process_refuses_writes_with_503_and_recovers_when_released() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    if std::env::var(common::POSTGRES_ENV).is_ok() {
        return eprintln!("SKIPPED: a fault of the SQLite file; the suite runs on PostgreSQL");
    }
    let dir = tempfile::tempdir().unwrap();
    let lock = |data: &Path| {
        let path = data.join("storesync.db");
        let mut conn = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        conn.batch_execute("BEGIN EXCLUSIVE").unwrap();
        conn
    };
    let release = |mut conn: diesel::SqliteConnection| conn.batch_execute("COMMIT").unwrap();
    writes_through_a_fault(dir.path(), lock, release, "locked").await;
}

#[actix_web::test]
async fn read_only_database_files_refuse_writes_with_503_and_recover_when_writable_again() {
    let Some(fs) = Mount::ext4(256) else { return };
    let chattr = |flag: &str, data: &Path| {
        let files = ["storesync.db", "storesync.db-wal"].map(|f| data.join(f).to_str().unwrap().to_owned());
        sh("chattr", &[flag, &files[0], &files[1]]).unwrap();
    };
    let read_only = |data: &Path| {
        chattr("+i", data);
        data.to_owned()
    };
    writes_through_a_fault(&fs.data(), read_only, |data| chattr("-i", &data), "I/O error").await;
}

/// A number from the environment, or `default`.
fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Panics with advice unless this process (and so the server it starts)
/// may open `needed` files.
fn assert_fd_limit(needed: u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let soft = limits.lines().find(|l| l.starts_with("Max open files")).and_then(|l| l.split_whitespace().nth(3));
    let soft: u64 = soft.and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
    assert!(soft >= needed, "this test needs {needed} open files per process: raise `ulimit -n` (now {soft})");
}

/// The server flags that let `clients` sockets of one principal and address in.
fn socket_caps(clients: usize) -> [String; 4] {
    let cap = (clients + 100).to_string();
    ["--max-connections-per-ip".into(), cap.clone(), "--max-connections-per-principal".into(), cap]
}

/// A subscriber of s1's products resuming from `since` (a replay, so no snapshot).
async fn subscriber(base: &str, token: &str, since: i64) -> Result<Ws, String> {
    let mut ws = Ws::connect(base, token).await?;
    let sub = ws.subscribe(json!({"type": "subscribe", "store": "s1", "since": since, "topics": ["products"]})).await;
    match sub["mode"] == "replay" {
        true => Ok(ws),
        false => Err(format!("not resumed by replay: {sub}")),
    }
}

/// Opens `n` subscribers from `since`, 64 at a time.
async fn subscribers(base: &str, token: &str, since: i64, n: usize) -> Vec<Ws> {
    let opened = futures_util::stream::iter(0..n).map(|_| subscriber(base, token, since)).buffer_unordered(64);
    opened.map(Result::unwrap).collect().await
}

/// Applies batches, each of which must continue from the last applied seq,
/// until the goal (once known) is reached; panics on a `resync` or after two
/// minutes.
async fn read_until(ws: &mut Ws, applied: &mut i64, goal: &watch::Receiver<Option<i64>>) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while goal.borrow().is_none_or(|goal| *applied < goal) {
        assert!(Instant::now() < deadline, "stuck at seq {applied}, goal {:?}", *goal.borrow());
        let Some(frame) = ws.try_next(Duration::from_millis(200)).await else { continue };
        assert_ne!(frame["type"], "resync", "{frame}");
        if frame["type"] == "batch" {
            common::apply_batch(applied, &frame);
        }
    }
}

#[actix_web::test]
async fn a_reconnect_storm_after_a_restart_resumes_every_subscriber_without_a_gap() {
    let clients = env_count("STORESYNC_STORM_CLIENTS", 5000);
    assert_fd_limit(clients as u64 + 256);
    let dir = tempfile::tempdir().unwrap();
    let caps = socket_caps(clients);
    let args: Vec<&str> = caps.iter().map(String::as_str).collect();
    let server = Server::start(dir.path(), &args);
    let admin = common::login_at(&server.base, "admin").await;
    let token = admin.token.clone().unwrap();
    let since = common::write_n(&admin, 1).await;
    let mut sockets = subscribers(&server.base, &token, since, clients).await;
    // Every subscriber reads twenty writes, then the server dies.
    let before = watch::channel(Some(common::write_n(&admin, 20).await)).1;
    for ws in &mut sockets {
        read_until(ws, &mut since.clone(), &before).await;
    }
    drop(server);
    let server = Server::start(dir.path(), &args);
    let restarted = Instant::now();
    // Writes go on during the storm.
    let (goal_tx, goal) = watch::channel(None);
    let writer = Client { base: server.base.clone(), ..admin };
    actix_web::rt::spawn(async move { goal_tx.send(Some(common::write_n(&writer, 20).await)) });
    // Every client reconnects at once, from the seq it applied.
    let since = before.borrow().unwrap();
    let resumed: Vec<_> = (0..clients)
        .map(|_| {
            let (base, token, goal) = (server.base.clone(), token.clone(), goal.clone());
            actix_web::rt::spawn(async move {
                let mut retries = 0;
                let mut ws = loop {
                    match subscriber(&base, &token, since).await {
                        Ok(ws) => break ws,
                        Err(e) if retries < 100 => {
                            retries += 1;
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            eprintln!("retrying: {e}");
                        }
                        Err(e) => panic!("no reconnect after 100 tries: {e}"),
                    }
                };
                let subscribed = restarted.elapsed();
                read_until(&mut ws, &mut since.clone(), &goal).await;
                (subscribed, restarted.elapsed(), retries, ws)
            })
        })
        .collect();
    let mut done = Vec::new();
    for client in resumed {
        done.push(client.await.unwrap());
    }
    let subscribed = done.iter().map(|d| d.0).max().unwrap();
    let caught_up = done.iter().map(|d| d.1).max().unwrap();
    let retries: u32 = done.iter().map(|d| d.2).sum();
    eprintln!(
        "reconnect storm: {clients} subscribers resumed after the restart: all subscribed in {subscribed:?}, \
         all caught up in {caught_up:?} ({retries} connects retried)"
    );
    drop(sockets);
}

#[actix_web::test]
async fn stalled_readers_are_dropped_while_the_others_get_every_event_and_memory_stays_bounded() {
    const READERS: usize = 900;
    const STALLED: usize = 100;
    const OUTBOX: usize = 16;
    assert_fd_limit((READERS + STALLED) as u64 + 256);
    let dir = tempfile::tempdir().unwrap();
    let caps = socket_caps(READERS + STALLED);
    let mut args: Vec<&str> = caps.iter().map(String::as_str).collect();
    // Stalled connections are dropped by --write-timeout-secs alone: the
    // readers, idle once they have read everything, miss no heartbeat.
    args.extend(["--outbox-capacity", "16", "--write-timeout-secs", "5", "--heartbeat-ms", "600000"]);
    let server = Server::start(dir.path(), &args);
    let admin = common::login_at(&server.base, "admin").await;
    let metrics = Client { token: None, ..admin.clone() };
    let token = admin.token.clone().unwrap();
    let since = common::write_n(&admin, 1).await;
    let readers = subscribers(&server.base, &token, since, READERS).await;
    let (_, fds_readers) = server.usage();
    // Each stalled client asks for a page of its own size (so each is sent
    // frames of its own) and never reads a byte.
    let mut stalled = Vec::new();
    for size in 101..101 + STALLED {
        let mut socket = common::raw_ws(&server.base, &token, Some(4096)).await;
        let subscribe = json!({"type": "subscribe", "store": "s1", "view": {"page_size": size, "sort": "price"}});
        socket.write_all(&common::masked_text(&subscribe.to_string())).await.unwrap();
        stalled.push(socket);
    }
    let (rss_before, fds_all) = server.usage();
    let stalled_at = Instant::now();
    // The readers read all along; they stop at the last write's seq, in
    // order, without a resync.
    let (goal_tx, goal) = watch::channel(None);
    let readers: Vec<_> = readers
        .into_iter()
        .map(|mut ws| {
            let goal = goal.clone();
            actix_web::rt::spawn(async move {
                read_until(&mut ws, &mut since.clone(), &goal).await;
                ws
            })
        })
        .collect();
    // Price changes re-sort the stalled clients' pages: every write is a new
    // page frame for each of them.
    let rows = admin.get("/api/v1/stores/s1/products?page_size=100&sort=price").await.json["rows"].clone();
    let ids: Vec<i64> = rows.as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
    let (mut rss_peak, mut queued_peak, mut last) = (rss_before, 0, since);
    for i in 0..200 {
        let path = format!("/api/v1/stores/s1/products/{}", ids[i % ids.len()]);
        let r = admin.patch(&path, json!({"price": (i * 7919) % 10_000})).await;
        last = r.assert_status(200).json["seq"].as_i64().unwrap();
        if i % 10 == 0 {
            rss_peak = rss_peak.max(server.usage().0);
            let text = metrics.get("/metrics").await.text;
            let queued = text.lines().find_map(|l| l.strip_prefix("storesync_outbox_frames ")).unwrap();
            queued_peak = queued_peak.max(queued.parse::<f64>().unwrap() as usize);
        }
    }
    goal_tx.send(Some(last)).unwrap();
    let mut open = Vec::new();
    for reader in readers {
        open.push(reader.await.unwrap());
    }
    // The stalled connections are dropped, and their sockets closed.
    let writes_took = stalled_at.elapsed();
    while server.usage().1 > fds_readers + 5 {
        assert!(stalled_at.elapsed() < Duration::from_secs(180), "stalled sockets still open: {:?}", server.usage());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (rss_after, fds_after) = server.usage();
    eprintln!(
        "stalled readers: {READERS} readers got all 200 writes (written in {writes_took:?}); the {STALLED} stalled \
         sockets were all closed {:?} after they stopped reading; fds {fds_readers} (readers) -> {fds_all} (all) -> \
         {fds_after}; RSS {} MiB before the writes, peak {} MiB, {} MiB after; at most {queued_peak} frames queued \
         in outboxes",
        stalled_at.elapsed(),
        rss_before / 1024,
        rss_peak / 1024,
        rss_after / 1024
    );
    assert!(queued_peak <= (READERS + STALLED) * OUTBOX, "{queued_peak} frames queued");
    assert!(rss_peak < rss_before + 256 * 1024, "RSS grew from {rss_before} KiB to {rss_peak} KiB");
    drop((stalled, open));
}

#[actix_web::test]
async fn logins_give_their_password_memory_back() {
    // Each login runs argon2id with 19 MiB on a blocking-pool thread. The
    // binary has glibc map such allocations on their own (src/main.rs); with
    // its default, each thread's arena kept them: 40 logins took RSS from
    // 39 MB to 488 MB, for good.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--login-attempts-per-minute", "1000", "--password-concurrency", "4"]);
    common::login_at(&server.base, "admin").await;
    let (before, _) = server.usage();
    for _ in 0..10 {
        let logins: Vec<_> = (0..4)
            .map(|_| {
                let base = server.base.clone();
                actix_web::rt::spawn(async move { common::login_at(&base, "admin").await })
            })
            .collect();
        for login in logins {
            login.await.unwrap();
        }
    }
    let (after, _) = server.usage();
    eprintln!("40 logins: RSS {} MiB -> {} MiB", before / 1024, after / 1024);
    assert!(after < before + 100 * 1024, "40 logins kept {} MiB", (after - before) / 1024);
}
