//! The worked examples of the integration guide (`docs/examples/`), run as
//! a reader would run them (Node for the scripts, bash with curl and jq for
//! the token walk-through) against a real server, so they cannot rot: the
//! sync script takes a snapshot, resumes with `since` and starts over after
//! a `resync`; the importer's If-Match refuses a stale change and its
//! Idempotency-Key makes a second run change nothing; a scoped token reads
//! its store only and stops working when revoked.

mod common;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/examples").join(name)
}

/// `node` running an example; Node 20 needs the flag for its WebSocket,
/// later versions accept it.
fn node(script: &str, app: &common::TestApp, token: &str) -> Command {
    let mut cmd = Command::new("node");
    cmd.arg("--experimental-websocket")
        .arg("--no-warnings")
        .arg(example(script))
        .env("STORESYNC_URL", &app.base)
        .env("STORESYNC_TOKEN", token)
        .current_dir(app.dir.path());
    cmd
}

/// Runs a command to its end off the actix thread (the server's store
/// actors run there); answers its exit code and output.
async fn run(mut cmd: Command) -> (i32, String) {
    let out = actix_web::rt::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

/// The next line the running script printed.
async fn next_line(lines: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(20), lines.recv()).await.unwrap().unwrap()
}

/// The store's current seq.
async fn seq(client: &common::Client, store: &str) -> i64 {
    client.get(&format!("/api/v1/stores/{store}/snapshot")).await.json["seq"].as_i64().unwrap()
}

/// The local copy the sync script keeps: every product of the store as the
/// export has it, the dashboard, and the seq.
fn assert_copy_matches(copy_file: &std::path::Path, export: &Value, seq: i64) {
    let copy: Value = serde_json::from_str(&std::fs::read_to_string(copy_file).unwrap()).unwrap();
    assert_eq!(copy["seq"], seq);
    let products = copy["products"].as_object().unwrap();
    let export = export.as_array().unwrap();
    assert_eq!(products.len(), export.len());
    for p in export {
        let mine = &products[&p["id"].to_string()];
        for field in ["sku", "name", "price", "stock", "status", "version", "units_sold", "revenue"] {
            assert_eq!(mine[field], p[field], "{field} of product {}", p["id"]);
        }
    }
}

#[actix_web::test]
async fn the_sync_example_keeps_a_copy_through_snapshot_resume_and_resync() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let token = admin.token.clone().unwrap();
    let copy = app.dir.path().join("copy.json");
    let export = || async { admin.get("/api/v1/stores/s2/products/export?format=json").await.json };

    // First run: a snapshot, then the catalog from the export.
    let first = admin.create_product("s2", "COPY-1", 1500).await;
    let at = seq(&admin, "s2").await;
    let mut cmd = node("sync-copy.mjs", &app, &token);
    cmd.args(["s2", copy.to_str().unwrap(), "--until", &at.to_string()]);
    let (code, out) = run(cmd).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("mode=snapshot"), "{out}");
    assert_copy_matches(&copy, &export().await, at);

    // Changes while it was away: the second run resumes with `since` and
    // gets them as batches, without a snapshot.
    let id = first["id"].as_i64().unwrap();
    admin.patch(&format!("/api/v1/stores/s2/products/{id}"), json!({"price": 1700})).await.assert_status(200);
    admin.create_product("s2", "COPY-2", 900).await;
    admin.delete(&format!("/api/v1/stores/s2/products/{id}")).await.assert_status(200);
    let later = seq(&admin, "s2").await;
    let mut cmd = node("sync-copy.mjs", &app, &token);
    cmd.args(["s2", copy.to_str().unwrap(), "--until", &later.to_string()]);
    let (code, out) = run(cmd).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("mode=replay seq={later}")) && !out.contains("snapshot"), "{out}");
    assert_copy_matches(&copy, &export().await, later);

    // Live: a store restart sends `resync`; the script starts over from a
    // snapshot and keeps following.
    let mut cmd = node("sync-copy.mjs", &app, &token);
    cmd.args(["s2", copy.to_str().unwrap(), "--until", &(later + 1).to_string()]).stdout(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let (tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    assert!(next_line(&mut lines).await.starts_with("subscribed store=s2 mode=replay"));
    admin.post("/api/v1/admin/stores/s2/reload", json!({})).await.assert_status(202);
    assert_eq!(next_line(&mut lines).await, "resync reason=store_restart");
    assert!(next_line(&mut lines).await.contains("mode=snapshot"));
    assert!(next_line(&mut lines).await.starts_with(&format!("snapshot seq={later}")));
    admin.create_product("s2", "COPY-3", 300).await;
    assert!(next_line(&mut lines).await.starts_with(&format!("batch from={} to={}", later + 1, later + 1)));
    assert_eq!(next_line(&mut lines).await, format!("reached seq={}", later + 1));
    let status = actix_web::rt::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert!(status.success());
    assert_copy_matches(&copy, &export().await, later + 1);
}

#[actix_web::test]
async fn the_importer_example_skips_stale_changes_and_a_second_run_changes_nothing() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let token = admin.token.clone().unwrap();
    let rows = admin.get("/api/v1/stores/s1/products?page_size=3").await.json["rows"].clone();
    let [a, b, c] = [0, 1, 2].map(|i| (rows[i]["id"].as_i64().unwrap(), rows[i]["version"].as_i64().unwrap()));
    let changes = app.dir.path().join("changes.json");
    std::fs::write(
        &changes,
        json!([
            {"id": a.0, "version": a.1, "price": 1234},
            {"id": b.0, "version": b.1, "stock": 7},
            {"id": c.0, "version": c.1, "price": 999},
        ])
        .to_string(),
    )
    .unwrap();
    // Someone edits c after the file was prepared.
    admin.patch(&format!("/api/v1/stores/s1/products/{}", c.0), json!({"name": "Renamed meanwhile"})).await;
    let product = |id: i64| {
        let admin = admin.clone();
        async move { admin.get(&format!("/api/v1/stores/s1/products/{id}")).await.json }
    };
    let import = |policy: &str| {
        let mut cmd = node("import-prices.mjs", &app, &token);
        cmd.args(["s1", changes.to_str().unwrap(), "--on-conflict", policy]);
        run(cmd)
    };

    let (code, first) = import("skip").await;
    assert_eq!(code, 2, "{first}");
    assert!(first.contains(&format!("conflict id={} version={} current={}: skipped", c.0, c.1, c.1 + 1)), "{first}");
    assert_eq!(product(a.0).await["price"], 1234);
    assert_eq!(product(b.0).await["stock"], 7);
    assert_ne!(product(c.0).await["price"], 999);

    // The same file again: the same keys answer the first results.
    let before = seq(&admin, "s1").await;
    let (code, again) = import("skip").await;
    assert_eq!(code, 2, "{again}");
    let updated = |out: &str| out.lines().filter(|l| l.starts_with("updated")).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(updated(&again), updated(&first), "replayed answers, same versions and seqs");
    assert_eq!(seq(&admin, "s1").await, before, "nothing changed");

    // Overwrite applies the change on top of the edit, which stays.
    let (code, out) = import("overwrite").await;
    assert_eq!(code, 0, "{out}");
    let c_now = product(c.0).await;
    assert_eq!((c_now["price"].as_i64(), c_now["name"].as_str()), (Some(999), Some("Renamed meanwhile")));
}

#[actix_web::test]
async fn the_token_example_scopes_uses_and_revokes_a_token() {
    let app = common::spawn_app().await;
    let mut cmd = Command::new("bash");
    cmd.arg(example("tokens.sh"))
        .env("STORESYNC_URL", &app.base)
        .env("ADMIN_PASSWORD", common::PASSWORD)
        .current_dir(app.dir.path());
    let (code, out) = run(cmd).await;
    assert_eq!(code, 0, "{out}");
    let statuses: Vec<&str> = out.lines().filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit())).collect();
    assert_eq!(statuses, ["200", "404 not_found", "403 forbidden", "204", "401 unauthenticated"], "{out}");
    assert!(out.contains(r#"{"name":"warehouse feed","role":"viewer","#), "{out}");
    let admin = app.login("admin").await;
    let tokens = admin.get("/api/v1/admin/tokens").await.json;
    assert_eq!(
        (tokens[0]["name"].as_str(), tokens[0]["revoked"].as_bool(), tokens[1].is_null()),
        (Some("warehouse feed"), Some(true), true),
        "{tokens}"
    );
}

/// Runs a training drill of `docs/training.md` (`docs/examples/drills/`)
/// with bash, as a trainee would, against the real binary: the drill starts
/// its own instances on free ports in a folder of its own. Answers its
/// output, or `None` when it skipped (exit 77) because this machine lacks
/// what it needs, after printing why.
fn drill(script: &str, env: &[(&str, &str)]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(example(&format!("drills/{script}")))
        .env("STORESYNC", env!("CARGO_BIN_EXE_storesync"))
        .env("DRILL_DIR", dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("STORESYNC_TOKEN")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.code() == Some(77) {
        eprintln!("{script}: {}", output.lines().find(|l| l.starts_with("SKIPPED")).unwrap_or("SKIPPED"));
        return None;
    }
    let log = std::fs::read_to_string(dir.path().join("storesync.log")).unwrap_or_default();
    let tail = log.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
    assert!(out.status.success(), "{script} failed:\n{output}\n--- the end of storesync.log ---\n{tail}");
    Some(output)
}

/// A drill on SQLite instances, run on the suite's SQLite pass only: its
/// output, which must contain each of `said` (the drill's outcome).
fn sqlite_drill(script: &str, said: &[&str]) -> Option<String> {
    if std::env::var(common::POSTGRES_ENV).is_ok() {
        eprintln!("{script}: SKIPPED on the PostgreSQL pass (its instances run on SQLite)");
        return None;
    }
    let out = drill(script, &[])?;
    assert_said(&out, said);
    Some(out)
}

fn assert_said(output: &str, lines: &[&str]) {
    for line in lines {
        assert!(output.contains(line), "the drill did not say {line:?}:\n{output}");
    }
}

#[test]
fn drill_first_start_restart_and_migrate() {
    let said = [r#"{"status":"ok"}"#, r#""status":"ready""#, "storesync.db", "404\n"];
    let Some(out) = sqlite_drill("first-start.sh", &said) else { return };
    // The README's first request: the five best sellers, by revenue.
    let revenues: Vec<i64> = serde_json::from_str(out.lines().find(|l| l.starts_with('[')).unwrap()).unwrap();
    assert!(revenues.len() == 5 && revenues.windows(2).all(|w| w[0] >= w[1]), "{out}");
    assert_eq!(out.matches("migrations done applied=0").count(), 2, "{out}");
}

#[test]
fn drill_users_grants_and_tokens() {
    let said = [r#"{"username":"maria","grants":"#, r#"["s2"]"#, "404 not_found", "401 unauthenticated"];
    sqlite_drill("users-grants-tokens.sh", &said);
}

#[test]
fn drill_metrics_and_alerts() {
    sqlite_drill(
        "metrics-and-alerts.sh",
        &["storesync_ws_connections 2", r#"storesync_subscriptions{store="s1"} 2"#, "[]"],
    );
}

#[test]
fn drill_backup_and_restore() {
    sqlite_drill("backup-restore.sh", &[r#"{"notice":"before the backup","seq":"#]);
}

#[test]
fn drill_delivery_latency_and_memory_per_client_alerts() {
    sqlite_drill("latency-and-memory.sh", &["alert firing alert=delivery_latency_high", "0 / 0 / 0", "alert cleared"]);
}

#[test]
fn drill_store_restart_and_resync_rate() {
    sqlite_drill("store-restart.sh", &["ok: resync_rate_high firing", "ok: the tab got resync reason=store_restart"]);
}

#[test]
fn drill_locked_database_and_error_rate() {
    sqlite_drill("database-locked.sh", &["503 unavailable", "ok: error_rate_high firing", "ok: writes work again"]);
}

#[test]
fn drill_disk_full() {
    sqlite_drill(
        "disk-full.sh",
        &["ok: log: database or disk is full", "503 unavailable", r#"{"notice":"space again","seq":"#],
    );
}

#[test]
fn drill_slow_consumer_and_sync_success() {
    sqlite_drill("slow-consumer.sh", &["0 / 0 / 0", "ok: sync_success_low fired", "resync reason=slow_consumer"]);
}

#[test]
fn drill_broker_down_on_a_two_node_cluster() {
    if std::env::var(common::POSTGRES_ENV).is_err() {
        return eprintln!("broker-down.sh: SKIPPED on the SQLite pass (a cluster needs {})", common::POSTGRES_ENV);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = common::TestDatabase::of(dir.path());
    let database = db.postgres_url.clone().unwrap();
    let redis_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let Some(out) = drill("broker-down.sh", &[("DATABASE_URL", &database), ("REDIS_PORT", &redis_port)]) else {
        return;
    };
    assert_said(&out, &[r#""broker":"down""#, "ok: broker_down firing", "ok: both nodes on the broker again"]);
}

#[test]
fn drill_load_test() {
    let report = r#"{"delivery_ratio":1,"lost":0,"duplicated":0,"out_of_order":0"#;
    sqlite_drill("load-test.sh", &["lost / duplicated / out of order", "0 / 0 / 0", report]);
}
