//! The cluster: three real nodes (the binary, as child processes) on one
//! PostgreSQL database and a Redis server of the test's own, so it can be
//! stopped and started. Runs on the PostgreSQL pass of the suite
//! (`STORESYNC_TEST_POSTGRES`); without it there is no shared database and
//! each test says so and returns.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{apply_batch, login_at, Client, TestDatabase, Ws, FRAME_TIMEOUT};
use serde_json::json;

/// A Redis server on a port of its own.
struct Redis {
    port: u16,
    child: Child,
}

impl Redis {
    fn start(port: u16) -> Redis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/test installs it)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis { port, child }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A storesync node.
struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Nodes sharing one data dir (so one database, and one media folder, as
/// shared storage would be) and one broker.
struct Cluster {
    nodes: Vec<Node>,
    redis: Redis,
    db: TestDatabase,
    dir: tempfile::TempDir,
}

impl Cluster {
    /// `count` nodes, or `None` when the suite runs without PostgreSQL.
    fn start(count: usize) -> Option<Cluster> {
        if std::env::var(common::POSTGRES_ENV).is_err() {
            eprintln!("cluster tests need PostgreSQL: set {} (scripts/test does)", common::POSTGRES_ENV);
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let db = TestDatabase::of(dir.path());
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let redis = Redis::start(port);
        let mut cluster = Cluster { nodes: Vec::new(), redis, db, dir };
        for _ in 0..count {
            cluster.add_node();
        }
        Some(cluster)
    }

    fn add_node(&mut self) {
        let broker = self.redis.url();
        let args = ["--broker-url", &broker, "--revalidate-secs", "1"];
        let (child, base, _) = common::start_server(self.dir.path(), &args);
        self.nodes.push(Node { child, base });
    }

    async fn admins(&self) -> Vec<Client> {
        let mut admins = Vec::new();
        for node in &self.nodes {
            admins.push(login_at(&node.base, "admin").await);
        }
        admins
    }
}

/// A subscriber of store s1's products on one node, checking every batch
/// starts right after the last one.
struct Subscriber {
    ws: Ws,
    applied: i64,
    created: Vec<i64>,
}

impl Subscriber {
    async fn join(client: &Client, since: Option<i64>) -> Subscriber {
        let mut ws = Ws::open(client).await;
        let mut frame = json!({"type": "subscribe", "store": "s1", "topics": ["products"]});
        if let Some(since) = since {
            frame["since"] = json!(since);
        }
        let subscribed = ws.subscribe(frame).await;
        let applied = since.unwrap_or_else(|| subscribed["seq"].as_i64().unwrap());
        Subscriber { ws, applied, created: Vec::new() }
    }

    /// Reads batches until `seq` is applied.
    async fn read_to(&mut self, seq: i64) {
        while self.applied < seq {
            let batch = self.ws.next_of("batch").await;
            for event in apply_batch(&mut self.applied, &batch) {
                if event["kind"] == "product.created" {
                    self.created.push(event["data"]["id"].as_i64().unwrap());
                }
            }
        }
    }
}

/// Creates `count` products through `client`; answers (id, seq) of each.
async fn create_products(client: Client, tag: String, count: usize) -> Vec<(i64, i64)> {
    let mut acked = Vec::new();
    for i in 0..count {
        let body = json!({"sku": format!("{tag}-{i}"), "name": "clustered", "price": 100});
        let r = client.post("/api/v1/stores/s1/products", body).await;
        r.assert_status(201);
        acked.push((r.json["product"]["id"].as_i64().unwrap(), r.json["seq"].as_i64().unwrap()));
    }
    acked
}

/// Waits until `check` holds, for at most `FRAME_TIMEOUT`.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < FRAME_TIMEOUT, "{what}: not within {FRAME_TIMEOUT:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

#[actix_web::test]
async fn writes_at_every_node_reach_every_subscriber_once_and_in_order() {
    let Some(cluster) = Cluster::start(3) else { return };
    let admins = cluster.admins().await;
    let mut subscribers = Vec::new();
    for admin in &admins {
        subscribers.push(Subscriber::join(admin, None).await);
    }
    let writers: Vec<_> = admins
        .iter()
        .enumerate()
        .map(|(n, admin)| actix_web::rt::spawn(create_products(admin.clone(), format!("N{n}"), 40)))
        .collect();
    let mut acked = Vec::new();
    for writer in writers {
        acked.extend(writer.await.unwrap());
    }
    let mut seqs: Vec<i64> = acked.iter().map(|(_, seq)| *seq).collect();
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs.len(), acked.len(), "every write got a seq of its own");
    let last = *seqs.last().unwrap();
    let ids: Vec<i64> = acked.iter().map(|(id, _)| *id).collect();
    for (n, sub) in subscribers.iter_mut().enumerate() {
        sub.read_to(last).await;
        for id in &ids {
            assert!(
                sub.created.contains(id),
                "node {n}'s subscriber missed product {id}: acked {acked:?} seen {:?}",
                sub.created
            );
        }
    }
    // Every node's live state holds every product.
    for admin in &admins {
        for id in &ids {
            admin.get(&format!("/api/v1/stores/s1/products/{id}")).await.assert_status(200);
        }
    }
}

#[actix_web::test]
async fn versions_and_idempotency_keys_hold_whichever_node_a_request_reaches() {
    let Some(cluster) = Cluster::start(3) else { return };
    let admins = cluster.admins().await;
    let product = admins[0].create_product("s1", "IFM-1", 500).await;
    let (id, version) = (product["id"].as_i64().unwrap(), product["version"].as_i64().unwrap());
    let patch = |client: &Client, price: i64, version: i64| {
        client
            .request(reqwest::Method::PATCH, &format!("/api/v1/stores/s1/products/{id}"))
            .header("if-match", format!("\"{version}\""))
            .json(&json!({"price": price}))
    };
    admins[1].send(patch(&admins[1], 600, version)).await.assert_status(200);
    admins[2].send(patch(&admins[2], 700, version)).await.assert_error(412, "version_stale");

    let keyed = |client: &Client| {
        client
            .request(reqwest::Method::POST, "/api/v1/stores/s1/products")
            .header("idempotency-key", "cluster-key-1")
            .json(&json!({"sku": "IDEM-1", "name": "once", "price": 1}))
    };
    let first = admins[0].send(keyed(&admins[0])).await;
    first.assert_status(201);
    let again = admins[2].send(keyed(&admins[2])).await;
    again.assert_status(201);
    assert_eq!(again.json, first.json, "the replay answers what the first request did");
    let page = admins[1].get("/api/v1/stores/s1/products?q=IDEM-1").await;
    assert_eq!(page.json["total"], 1, "{}", page.text);

    // The price set through node 1 is what node 0 serves, once its live
    // state applied the batch.
    eventually("node 0 serves the price set on node 1", async || {
        admins[0].get(&format!("/api/v1/stores/s1/products/{id}")).await.json["price"] == 600
    })
    .await;
}

#[actix_web::test]
async fn a_killed_node_loses_nothing_acknowledged_and_its_clients_resume_on_another() {
    let Some(mut cluster) = Cluster::start(3) else { return };
    let admins = cluster.admins().await;
    let viewer = login_at(&cluster.nodes[0].base, "viewer").await;
    // A presence watcher on node 1 sees node 0's viewer come and go.
    let mut watcher = Ws::open(&admins[1]).await;
    watcher.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["presence"]})).await;
    let mut visitor = Ws::open(&viewer).await;
    visitor.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["presence"]})).await;
    wait_for_viewers(&mut watcher, 1).await;

    let mut sub = Subscriber::join(&admins[0], None).await;
    let mut acked = create_products(admins[0].clone(), "BEFORE".into(), 20).await;
    acked.extend(create_products(admins[1].clone(), "MIDDLE".into(), 20).await);
    sub.read_to(acked.iter().map(|(_, seq)| *seq).max().unwrap()).await;

    // Writes keep arriving at node 1 while node 0 dies.
    let writer = actix_web::rt::spawn(create_products(admins[1].clone(), "DURING".into(), 40));
    cluster.nodes[0].child.kill().unwrap();
    cluster.nodes[0].child.wait().unwrap();
    acked.extend(writer.await.unwrap());
    acked.extend(create_products(admins[2].clone(), "AFTER".into(), 20).await);

    // The subscriber resumes on node 2 from the last seq it applied.
    let resumed_at = sub.applied;
    let mut resumed = Subscriber::join(&admins[2], Some(resumed_at)).await;
    resumed.read_to(acked.iter().map(|(_, seq)| *seq).max().unwrap()).await;
    for (id, seq) in &acked {
        if *seq > resumed_at {
            assert!(resumed.created.contains(id), "product {id} (seq {seq}) missing after the resume");
        }
        admins[2].get(&format!("/api/v1/stores/s1/products/{id}")).await.assert_status(200);
    }
    let dead = wait_for_viewers(&mut watcher, 0).await;
    eprintln!("a killed node's presence was released after {dead:?}");
}

#[actix_web::test]
async fn a_published_view_and_a_logout_reach_sockets_on_other_nodes() {
    let Some(cluster) = Cluster::start(2) else { return };
    let admins = cluster.admins().await;
    let viewer = login_at(&cluster.nodes[1].base, "viewer").await;
    let mut follower = Ws::open(&viewer).await;
    follower.subscribe(json!({"type": "subscribe", "store": "s1", "follow": true})).await;
    let mut publisher = Ws::open(&admins[0]).await;
    publisher.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    let view = json!({"page": 3, "page_size": 10});
    publisher.send(json!({"type": "publish_view", "id": 9, "store": "s1", "view": view})).await;
    let page = follower.next_of("page").await;
    assert_eq!((page["view"]["page"].as_i64(), page["rows"].as_array().unwrap().len()), (Some(3), 10), "{page}");

    // Logging out through node 0 closes the session's socket on node 1.
    let session = Client { base: cluster.nodes[0].base.clone(), ..viewer.clone() };
    session.post("/api/v1/auth/logout", json!({})).await.assert_status(204);
    assert_eq!(follower.close_code().await, Some(4001), "the logged-out session's socket is closed");
}

/// Reads presence frames until the viewers count is `viewers`.
async fn wait_for_viewers(ws: &mut Ws, viewers: i64) -> Duration {
    let started = Instant::now();
    while ws.next_of("presence").await["viewers"] != viewers {}
    started.elapsed()
}

#[actix_web::test]
async fn without_the_broker_nodes_deliver_by_reading_the_database_and_return_to_it() {
    let Some(mut cluster) = Cluster::start(2) else { return };
    let admins = cluster.admins().await;
    let mut sub = Subscriber::join(&admins[1], None).await;
    let broker = |node: usize| {
        let client = admins[node].clone();
        async move { client.get("/readyz").await.json["broker"].as_str().unwrap_or_default().to_owned() }
    };
    eventually("the broker is up", async || broker(1).await == "up").await;

    // A message that does not parse is counted and skipped; the write it
    // stands for would come from the database.
    let published = Command::new("redis-cli")
        .args(["-p", &cluster.redis.port.to_string(), "PUBLISH", "storesync:batch:1", "{not json"])
        .output()
        .unwrap();
    assert!(published.status.success());
    eventually("the garbage is counted", async || {
        admins[1].get("/metrics").await.text.contains("storesync_broker_messages_total{outcome=\"unparsable\"} 1")
    })
    .await;
    let written = create_products(admins[0].clone(), "AFTER-GARBAGE".into(), 1).await;
    sub.read_to(written[0].1).await;

    cluster.redis.stop();
    eventually("node 1 sees the broker down", async || broker(1).await == "down").await;
    let mut acked = written;
    for round in 0..5 {
        let written = create_products(admins[0].clone(), format!("POLL{round}"), 1).await;
        let started = Instant::now();
        sub.read_to(written[0].1).await;
        eprintln!("broker down: delivered across nodes in {:?}", started.elapsed());
        acked.extend(written);
    }
    let health = admins[1].get("/api/v1/admin/health").await;
    health.assert_status(200);

    cluster.redis = Redis::start(cluster.redis.port);
    eventually("node 1 is back on the broker", async || broker(1).await == "up").await;
    acked.extend(create_products(admins[0].clone(), "BACK".into(), 10).await);
    sub.read_to(acked.iter().map(|(_, seq)| *seq).max().unwrap()).await;
    for (id, _) in &acked {
        assert!(sub.created.contains(id), "product {id} missing");
    }
}

#[actix_web::test]
async fn a_database_outage_refuses_writes_with_503_and_the_nodes_recover_by_themselves() {
    let Some(cluster) = Cluster::start(2) else { return };
    let admins = cluster.admins().await;
    let mut sub = Subscriber::join(&admins[1], None).await;
    let mut acked = create_products(admins[0].clone(), "UP".into(), 10).await;
    cluster.db.set_reachable(false);
    let mut refused = 0;
    // Each waits for a pooled connection until the pool's timeout.
    for i in 0..2 {
        let body = json!({"sku": format!("DOWN-{i}"), "name": "refused", "price": 1});
        let r = admins[0].post("/api/v1/stores/s1/products", body).await;
        match r.status.as_u16() {
            201 => acked.push((r.json["product"]["id"].as_i64().unwrap(), r.json["seq"].as_i64().unwrap())),
            status => {
                assert_eq!(status, 503, "{}", r.text);
                refused += 1;
            }
        }
    }
    assert!(refused > 0, "writes are refused while the database is away");
    cluster.db.set_reachable(true);
    let mut after = Vec::new();
    eventually("writes succeed again", async || {
        let body = json!({"sku": format!("BACK-{}", after.len()), "name": "back", "price": 1});
        let r = admins[0].post("/api/v1/stores/s1/products", body).await;
        if r.status == 201 {
            after.push((r.json["product"]["id"].as_i64().unwrap(), r.json["seq"].as_i64().unwrap()));
        }
        r.status == 201
    })
    .await;
    acked.extend(after);
    acked.extend(create_products(admins[1].clone(), "AGAIN".into(), 5).await);
    sub.read_to(acked.iter().map(|(_, seq)| *seq).max().unwrap()).await;
    for (id, _) in &acked {
        assert!(sub.created.contains(id), "product {id} missing");
        admins[1].get(&format!("/api/v1/stores/s1/products/{id}")).await.assert_status(200);
    }
}

#[test]
fn a_wrong_or_unreachable_broker_is_a_one_line_error_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |database: Option<&str>, broker: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_storesync"));
        match database {
            Some(url) => command.env("DATABASE_URL", url),
            None => command.env_remove("DATABASE_URL"),
        };
        let out = command
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .env("STORESYNC_BROKER_URL", broker)
            .env("STORESYNC_LOG", "info")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{broker} must be refused");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let refused = serve(None, "nats://127.0.0.1:4222");
    assert!(refused.contains("unsupported broker URL scheme \"nats\""), "{refused}");
    let refused = serve(None, "redis://127.0.0.1:6379");
    assert!(refused.contains("needs a PostgreSQL database"), "{refused}");
    assert!(!dir.path().join("data").exists(), "nothing is created for a refused config");
    let Some(database) = common::postgres_url(dir.path()) else { return };
    let _db = TestDatabase::of(dir.path());
    let refused = serve(Some(&database), "redis://:s3cret@127.0.0.1:1");
    assert!(refused.contains("cannot reach the broker redis://:***@127.0.0.1:1"), "{refused}");
    assert!(!refused.contains("s3cret"), "the password must not be logged: {refused}");
    assert_eq!(refused.lines().filter(|l| l.contains("ERROR")).count(), 1, "{refused}");
}

#[actix_web::test]
async fn the_load_generator_spread_over_the_nodes_finds_nothing_lost_duplicated_or_out_of_order() {
    let Some(cluster) = Cluster::start(3) else { return };
    let urls: Vec<&str> = cluster.nodes.iter().map(|n| n.base.as_str()).collect();
    let (out, report) = common::run_load(&urls, "10");
    assert!(out.status.success(), "run failed: {}\n{report}", String::from_utf8_lossy(&out.stderr));
    assert_eq!((&report["lost"], &report["duplicated"], &report["out_of_order"]), (&json!(0), &json!(0), &json!(0)));
    let per_url = report["per_url"].as_array().unwrap();
    assert_eq!(per_url.len(), 3, "{report}");
    for node in per_url {
        // Every node took writes and served subscribers that got every
        // write of every node.
        assert!(node["writes_acked"].as_u64().unwrap() > 0, "{report}");
        assert!(node["subscribers"].as_u64().unwrap() > 0, "{report}");
        assert_eq!(node["deliveries"], node["deliveries_expected"], "{report}");
    }
}

#[actix_web::test]
async fn stores_created_archived_and_deleted_on_one_node_are_known_on_the_others() {
    let Some(cluster) = Cluster::start(2) else { return };
    let admins = cluster.admins().await;
    let (here, there) = (&admins[0], &admins[1]);
    let mut ws = Ws::open(there).await;

    let store = json!({"slug": "popup", "name": "Pop-up", "currency": "EUR", "time_zone": "Europe/Paris"});
    here.post("/api/v1/admin/stores", store).await.assert_status(201);
    let listed = ws.next_of("stores").await;
    assert!(listed["stores"].as_array().unwrap().iter().any(|s| s["slug"] == "popup"), "{listed}");
    let product = there.create_product("popup", "POP-1", 500).await;

    ws.subscribe(json!({"type": "subscribe", "store": "popup"})).await;
    here.post("/api/v1/admin/stores/popup/archive", json!({})).await.assert_status(200);
    let batch = ws.next_of("batch").await;
    assert_eq!(batch["events"][0]["kind"], "store.archived");
    assert_eq!(ws.next_of("resync").await["reason"], "store_archived");
    let path = format!("/api/v1/stores/popup/products/{}", product["id"]);
    there.patch(&path, json!({"stock": 1})).await.assert_error(409, "store_archived");

    here.delete("/api/v1/admin/stores/popup").await.assert_status(204);
    eventually("the other node forgets the deleted store", async || {
        there.get("/api/v1/stores/popup").await.status == 404
    })
    .await;
}

#[actix_web::test]
async fn dashboard_users_on_every_node_get_the_same_small_updates_live_and_on_resume() {
    let Some(cluster) = Cluster::start(2) else { return };
    let admins = cluster.admins().await;
    let topics = json!(["dashboard", "sales"]);
    let mut sockets = Vec::new();
    let mut since = 0;
    for admin in &admins {
        let mut ws = Ws::open(admin).await;
        let sub = ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": topics})).await;
        since = since.max(sub["seq"].as_i64().unwrap());
        sockets.push(ws);
    }
    // Two changes of the same day through node 0, a sale through node 1.
    admins[0].patch("/api/v1/stores/s1/dashboard", json!({"revenue_target": 5})).await.assert_status(200);
    let r = admins[0].patch("/api/v1/stores/s1/dashboard", json!({"notice": "clustered"})).await;
    r.assert_status(200);
    let product = admins[1].first_product("s1").await;
    let sale = json!({"lines": [{"product_id": product["id"], "quantity": 1}]});
    let r = admins[1].post("/api/v1/stores/s1/sales", sale).await;
    r.assert_status(201);
    let last = r.json["seq"].as_i64().unwrap();
    let mut received = Vec::new();
    for ws in &mut sockets {
        let mut applied = since;
        let mut events = Vec::new();
        while applied < last {
            events.extend(apply_batch(&mut applied, &ws.next_of("batch").await));
        }
        // Coalescing may merge the two dashboard changes: compare by the
        // client's result, not frame by frame.
        let notice = events.iter().rev().find(|e| e["kind"] == "dashboard.updated").expect("a dashboard change");
        assert_eq!(notice["data"]["notice"], "clustered");
        assert!(notice["data"].get("day").is_none() && notice["data"].get("visitors_today").is_none(), "{notice}");
        let sold = events.iter().find(|e| e["kind"] == "sales.updated").expect("the sale");
        assert!(sold["data"].get("products").is_none(), "{sold}");
        received.push(sold["data"].clone());
    }
    assert_eq!(received[0], received[1], "both nodes sent the sale alike");
    // A resume on node 1 replays the events as recorded, in the same form.
    let mut again = Ws::open(&admins[1]).await;
    let sub = again.subscribe(json!({"type": "subscribe", "store": "s1", "since": since, "topics": topics})).await;
    assert_eq!(sub["mode"], "replay");
    let mut applied = since;
    let mut replayed = Vec::new();
    while applied < last {
        replayed.extend(apply_batch(&mut applied, &again.next_of("batch").await));
    }
    let kinds: Vec<&str> = replayed.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["dashboard.updated", "dashboard.updated", "sales.updated"]);
    assert_eq!(replayed[1]["data"].as_object().unwrap().keys().collect::<Vec<_>>(), ["notice", "version"]);
    assert_eq!(replayed[2]["data"], received[0]);
}

#[actix_web::test]
async fn a_scheduled_change_is_applied_once_though_every_node_polls_for_it() {
    let Some(cluster) = Cluster::start(2) else { return };
    let admins = cluster.admins().await;
    let product = admins[0].first_product("s1").await;
    let id = product["id"].as_i64().unwrap();
    let before = admins[1].get("/api/v1/stores/s1/events?since=0&limit=1").await.json["last_seq"].as_i64().unwrap();
    let due = (chrono::Utc::now() + chrono::TimeDelta::seconds(2)).to_rfc3339();
    let change = json!({"kind": "product", "id": id, "patch": {"stock": 2468}});
    let r = admins[0].post("/api/v1/stores/s1/schedule", json!({"due_at": due, "change": change})).await;
    let sid = r.assert_status(201).json["scheduled"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/stores/s1/schedule/{sid}");
    eventually("the change is applied", async || admins[1].get(&path).await.json["status"] == "applied").await;
    // Both nodes' schedulers saw it due; give the slower one time to try.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let events = admins[1].get(&format!("/api/v1/stores/s1/events?since={before}&limit=1000")).await.json;
    let kinds: Vec<&str> = events["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["schedule.updated", "product.updated", "schedule.updated"], "{events}");
    assert_eq!(admins[0].get(&format!("/api/v1/stores/s1/products/{id}")).await.json["stock"], 2468);
}
