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
