//! `storesync migrate-to`: a node's SQLite database, written through the
//! REST API, moves into a fresh PostgreSQL database, and a node started on
//! it serves the same store: products, seq, events, logins, tokens,
//! idempotency keys, and new writes that continue the seq and the ids.
//! Then the refusals: a target that has stores, the source itself, an
//! unknown scheme, a missing source.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use chrono::{TimeDelta, Utc};
use common::{Client, PASSWORD};
use diesel::Connection;
use reqwest::Method;
use serde_json::{json, Value};

/// Runs the binary with `args`, away from any DATABASE_URL of the environment.
fn storesync(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_storesync"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env("STORESYNC_LOG", "info")
        .env("STORESYNC_DEMO_PASSWORD", PASSWORD)
        .output()
        .unwrap()
}

/// The PostgreSQL server to create the target on, if it answers.
fn postgres_server() -> Option<String> {
    let url = std::env::var(common::POSTGRES_ENV)
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".into());
    match diesel::PgConnection::establish(&url) {
        Ok(_) => Some(url),
        Err(e) => {
            println!("skipped: no PostgreSQL at {url} ({e})");
            None
        }
    }
}

/// What must survive the move, read through the API, by path.
async fn observed(admin: &Client) -> Vec<(String, Value)> {
    let today = Utc::now().date_naive();
    let days = format!("from={}&to={}", today - TimeDelta::days(120), today + TimeDelta::days(1));
    let mut seen = Vec::new();
    for path in [
        "/api/v1/stores/s1/products/export?format=json".to_owned(),
        "/api/v1/stores/s1/events?since=0&limit=1000".to_owned(),
        "/api/v1/stores/s1/dashboard".to_owned(),
        format!("/api/v1/stores/s1/sales/daily?{days}"),
        "/api/v1/admin/tokens".to_owned(),
    ] {
        let r = admin.get(&path).await;
        r.assert_status(200);
        let mut json = r.json.clone();
        to_micros(&mut json);
        seen.push((path, json));
    }
    seen
}

/// Cuts every time in `v` to the microsecond: SQLite kept the nanoseconds
/// of the rows the seed and token creation wrote, PostgreSQL keeps
/// microseconds.
fn to_micros(v: &mut Value) {
    match v {
        Value::String(s) if s.len() > 20 && s.as_bytes()[10] == b'T' => {
            if let Some(dot) = s.find('.') {
                let digits = s[dot + 1..].chars().take_while(char::is_ascii_digit).count();
                s.replace_range((dot + 7).min(dot + 1 + digits)..dot + 1 + digits, "");
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_micros),
        Value::Object(fields) => fields.values_mut().for_each(to_micros),
        _ => {}
    }
}

/// A server child process, stopped when dropped: also when an assertion
/// fails, so a failed test leaves no server behind.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[actix_web::test]
async fn a_store_moves_from_sqlite_to_postgres_whole_and_its_seq_continues() {
    let Some(server) = postgres_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("storesync.db");
    let (node, base, _) = common::start_server(dir.path(), &["--database-url", sqlite.to_str().unwrap()]);
    let node = Stopped(node);
    let admin = common::login_at(&base, "admin").await;
    let created = admin.create_product("s1", "MOVE-1", 1234).await;
    let path = format!("/api/v1/stores/s1/products/{}", created["id"]);
    admin.patch(&path, json!({"stock": 7})).await.assert_status(200);
    let keyed =
        |c: &Client| c.request(Method::PATCH, &path).header("Idempotency-Key", "move-1").json(&json!({"stock": 8}));
    let first = admin.send(keyed(&admin)).await;
    first.assert_status(200);
    let sale = json!({"lines": [{"product_id": created["id"], "quantity": 2}]});
    admin.post("/api/v1/stores/s1/sales", sale.clone()).await.assert_status(201);
    admin.patch("/api/v1/stores/s1/dashboard", json!({"notice": "moving"})).await.assert_status(200);
    let carol = admin.post("/api/v1/admin/users", json!({"username": "carol", "password": "carol's password"})).await;
    carol.assert_status(201);
    let grant = admin.request(Method::PUT, &format!("/api/v1/admin/users/{}/grants/s1", carol.json["id"]));
    admin.send(grant.json(&json!({"role": "editor"}))).await.assert_status(200);
    let token = admin.post("/api/v1/admin/tokens", json!({"name": "sync", "role": "viewer", "stores": ["s1"]})).await;
    token.assert_status(201);
    let before = observed(&admin).await;
    let seq = before[1].1["last_seq"].as_i64().unwrap();
    assert!(seq >= 5, "{}", before[1].1);
    drop(node);

    let target = common::postgres::create_database(&server);
    let _dropped = common::TestDatabase { postgres_url: Some(target.clone()) };
    let data_dir = dir.path().to_str().unwrap();
    let out = storesync(&["migrate-to", &target, "--data-dir", data_dir]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = String::from_utf8_lossy(&out.stdout);
    // 1,200 + 240 + 120 demo products and one more: more than one chunk.
    for copied in ["stores=3", "users=4", "products=1561", "api_tokens=1", "idempotency_keys=1"] {
        assert!(summary.contains(copied), "{copied} in {summary}");
    }

    let (node, base, log) = common::start_server(dir.path(), &["--database-url", &target]);
    let node = Stopped(node);
    assert!(!log.lock().unwrap().iter().any(|l| l.contains("demo data seeded")), "the copy is not seeded again");
    let session = Client { base: base.clone(), ..admin };
    session.get("/api/v1/me").await.assert_status(200);
    let admin = common::login_at(&base, "admin").await;
    for ((path, after), (_, before)) in observed(&admin).await.iter().zip(&before) {
        assert!(after == before, "{path} differs after the move");
    }
    let resumed = admin.get(&format!("/api/v1/stores/s1/events?since={}&limit=1000", seq - 2)).await;
    assert_eq!(resumed.json["events"].as_array().unwrap().len(), 2, "{}", resumed.text);
    let mut ws = common::Ws::open(&admin).await;
    let sub = ws.subscribe(json!({"type": "subscribe", "store": "s1", "since": seq - 2})).await;
    assert_eq!((sub["mode"].as_str(), sub["seq"].as_i64()), (Some("replay"), Some(seq)));
    let mut applied = seq - 2;
    while applied < seq {
        common::apply_batch(&mut applied, &ws.next_of("batch").await);
    }
    let carol = json!({"username": "carol", "password": "carol's password"});
    Client { token: None, ..admin.clone() }.post("/api/v1/auth/login", carol).await.assert_status(200);
    let integration = Client { token: Some(token.json["token"].as_str().unwrap().to_owned()), ..admin.clone() };
    integration.get(&path).await.assert_status(200);
    let retried = admin.send(keyed(&admin)).await;
    assert_eq!((retried.status, &retried.json), (first.status, &first.json), "the idempotency key still answers");

    let next = admin.patch(&path, json!({"stock": 9})).await;
    next.assert_status(200);
    assert_eq!(next.json["seq"].as_i64(), Some(seq + 1));
    // Every id sequence moved past the copied ids.
    let newer = admin.create_product("s1", "MOVE-2", 1).await;
    assert!(newer["id"].as_i64() > created["id"].as_i64(), "{newer}");
    admin.post("/api/v1/stores/s1/sales", sale).await.assert_status(201);
    admin
        .post("/api/v1/admin/users", json!({"username": "dave", "password": "dave's password"}))
        .await
        .assert_status(201);
    admin
        .post("/api/v1/admin/tokens", json!({"name": "two", "role": "viewer", "stores": ["s1"]}))
        .await
        .assert_status(201);
    drop(node);

    let again = storesync(&["migrate-to", &target, "--data-dir", data_dir]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(stderr(&again).contains("already has 3 stores"), "{}", stderr(&again));
}

/// Seeds the demo data into an SQLite database in `dir`.
fn seeded(dir: &Path) {
    let out = storesync(&["seed", "--data-dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn migrate_to_refuses_a_target_with_stores_the_source_itself_and_unknown_schemes() {
    let (source, target) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    seeded(source.path());
    seeded(target.path());
    let data_dir = source.path().to_str().unwrap();
    let target_file = target.path().join("storesync.db");
    let source_file = source.path().join("storesync.db");
    let missing = source.path().join("none");
    for (url, dir, refusal) in [
        (target_file.to_str().unwrap(), data_dir, "already has 3 stores"),
        (source_file.to_str().unwrap(), data_dir, "is the source database"),
        ("mysql://root@127.0.0.1/shop", data_dir, "unsupported database URL scheme \"mysql\""),
        (target_file.to_str().unwrap(), missing.to_str().unwrap(), "no source database"),
    ] {
        let out = storesync(&["migrate-to", url, "--data-dir", dir]);
        assert_eq!(out.status.code(), Some(1), "{url}: {}", stderr(&out));
        assert!(stderr(&out).contains(refusal), "{url}: {refusal} in {}", stderr(&out));
    }
    assert!(!missing.exists(), "a missing source is not created");
}
