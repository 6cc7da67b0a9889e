//! Live sync over real WebSockets: snapshot and live batches, many clients
//! and writers, resume, coalescing, pagination and follow, store switching,
//! slow consumers.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{apply_batch, Ws};
use serde_json::{json, Value};

#[actix_web::test]
async fn a_subscriber_gets_a_snapshot_then_every_change() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let mut ws = app.ws(&admin).await;
    let subscribed = ws.subscribe(json!({"type": "subscribe", "id": 1, "store": "s1", "view": {"page_size": 5}})).await;
    assert_eq!((subscribed["mode"].as_str(), subscribed["ref"].as_i64()), (Some("snapshot"), Some(1)));
    let snapshot = ws.next_of("snapshot").await;
    assert_eq!(snapshot["page"]["rows"].as_array().unwrap().len(), 5);
    let mut applied = snapshot["seq"].as_i64().unwrap();

    let product = admin.first_product("s1").await;
    let r = admin.patch(&format!("/api/v1/stores/s1/products/{}", product["id"]), json!({"price": 4242})).await;
    r.assert_status(200);
    let batch = ws.next_of("batch").await;
    let events = apply_batch(&mut applied, &batch);
    assert_eq!(events[0]["kind"], "product.updated");
    assert_eq!(events[0]["data"]["price"], 4242);
    assert_eq!(events[0]["data"]["version"], 2);
    assert_eq!(applied, r.json["seq"].as_i64().unwrap());

    ws.send(json!({"type": "ping", "id": "p"})).await;
    assert_eq!(ws.next_of("pong").await["ref"], "p");
}

#[actix_web::test]
async fn two_hundred_clients_receive_five_hundred_concurrent_writes_in_order() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let mut clients = Vec::new();
    for _ in 0..200 {
        let mut ws = app.ws(&admin).await;
        let sub = ws
            .subscribe(json!({"type": "subscribe", "store": "s1", "since": 0, "topics": ["products", "sales"]}))
            .await;
        assert_eq!(sub["mode"], "replay");
        clients.push(ws);
    }
    let ids: Vec<i64> = admin.get("/api/v1/stores/s1/products?page_size=20").await.json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    let writers: Vec<_> = (0..10)
        .map(|w| {
            let c = admin.clone();
            let ids = ids.clone();
            actix_web::rt::spawn(async move {
                let mut last = 0;
                for i in 0..50 {
                    let id = ids[(w * 7 + i) % ids.len()];
                    let r = c
                        .patch(&format!("/api/v1/stores/s1/products/{id}"), json!({"stock": 100_000 + w * 1000 + i}))
                        .await;
                    r.assert_status(200);
                    last = last.max(r.json["seq"].as_i64().unwrap());
                }
                last
            })
        })
        .collect();
    let mut final_seq = 0;
    for w in writers {
        final_seq = final_seq.max(w.await.unwrap());
    }
    assert_eq!(final_seq, 500);
    let truth: HashMap<i64, Value> = ids
        .iter()
        .map(|id| (*id, Value::Null))
        .collect::<HashMap<_, _>>()
        .into_keys()
        .map(|id| (id, Value::Null))
        .collect();
    let mut expected = HashMap::new();
    for id in truth.keys() {
        expected.insert(*id, admin.get(&format!("/api/v1/stores/s1/products/{id}")).await.json["stock"].clone());
    }
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut ws| {
            let expected = expected.clone();
            actix_web::rt::spawn(async move {
                let mut applied = 0;
                let mut stock: HashMap<i64, Value> = HashMap::new();
                while applied < final_seq {
                    let frame = ws.next().await;
                    if frame["type"] == "batch" {
                        for e in apply_batch(&mut applied, &frame) {
                            stock.insert(e["entity_id"].as_i64().unwrap(), e["data"]["stock"].clone());
                        }
                    }
                }
                assert_eq!(applied, final_seq);
                for (id, value) in &expected {
                    assert_eq!(stock.get(id), Some(value), "product {id}");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

#[actix_web::test]
async fn resume_replays_exactly_the_missed_changes() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    common::write_n(&admin, 3).await;
    let mut ws = app.ws(&admin).await;
    let sub = ws.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    let since = sub["seq"].as_i64().unwrap();
    drop(ws);
    let last = common::write_n(&admin, 50).await;
    assert_eq!(last, since + 50);

    let mut ws = app.ws(&admin).await;
    let sub = ws.subscribe(json!({"type": "subscribe", "store": "s1", "since": since})).await;
    assert_eq!((sub["mode"].as_str(), sub["seq"].as_i64()), (Some("replay"), Some(last)));
    let mut applied = since;
    let mut seqs = Vec::new();
    while applied < last {
        let batch = ws.next_of("batch").await;
        seqs.extend(apply_batch(&mut applied, &batch).iter().map(|e| e["seq"].as_i64().unwrap()));
    }
    assert_eq!(seqs, ((since + 1)..=last).collect::<Vec<_>>());
}

#[actix_web::test]
async fn resume_from_the_database_and_a_snapshot_when_older_than_history() {
    let app = common::spawn_app_with(|c| {
        c.history_size = 8;
        c.max_replay = 30;
    })
    .await;
    let admin = app.login("admin").await;
    let last = common::write_n(&admin, 50).await;
    let mut ws = app.ws(&admin).await;
    // 20 behind: older than the 8-event ring, within max_replay: replayed from the table.
    let sub = ws.subscribe(json!({"type": "subscribe", "store": "s1", "since": last - 20})).await;
    assert_eq!(sub["mode"], "replay");
    let mut applied = last - 20;
    let mut count = 0;
    while applied < last {
        count += apply_batch(&mut applied, &ws.next_of("batch").await).len();
    }
    assert_eq!(count, 20);
    // 50 behind: older than the retained history: a snapshot.
    let mut ws = app.ws(&admin).await;
    let sub = ws.subscribe(json!({"type": "subscribe", "store": "s1", "since": 0})).await;
    assert_eq!((sub["mode"].as_str(), sub["seq"].as_i64()), (Some("snapshot"), Some(last)));
    assert_eq!(ws.next().await["type"], "snapshot");
}

#[actix_web::test]
async fn a_burst_to_one_product_arrives_coalesced_with_the_final_state() {
    let app = common::spawn_app_with(|c| c.flush_window_ms = 50).await;
    let admin = app.login("admin").await;
    let product = admin.first_product("s1").await;
    let path = format!("/api/v1/stores/s1/products/{}", product["id"]);
    let mut ws = app.ws(&admin).await;
    let sub = ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["products"]})).await;
    let mut applied = sub["seq"].as_i64().unwrap();
    let writes: Vec<_> = (0..60)
        .map(|i| {
            let c = admin.clone();
            let path = path.clone();
            actix_web::rt::spawn(async move {
                c.patch(&path, json!({"price": 1000 + i, "stock": i})).await.json["seq"].as_i64().unwrap()
            })
        })
        .collect();
    let mut last = 0;
    for w in writes {
        last = last.max(w.await.unwrap());
    }
    let mut frames = 0;
    let mut state = product.clone();
    while applied < last {
        let batch = ws.next_of("batch").await;
        frames += 1;
        // One product was written: a coalesced batch carries one event.
        assert_eq!(batch["events"].as_array().unwrap().len(), 1, "{batch}");
        for e in apply_batch(&mut applied, &batch) {
            for (k, v) in e["data"].as_object().unwrap() {
                state[k] = v.clone();
            }
        }
    }
    assert!(frames < 60, "{frames} frames for 60 writes");
    let truth = admin.get(&path).await.json;
    for field in ["price", "stock", "version"] {
        assert_eq!(state[field], truth[field], "{field}");
    }
}

fn row_ids(page: &Value) -> Vec<i64> {
    page["rows"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect()
}

#[actix_web::test]
async fn an_insert_on_page_one_sends_new_pages_to_pages_one_and_two() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let view = |page| json!({"page": page, "page_size": 10, "sort": "name", "dir": "asc"});
    let mut p1 = app.ws(&admin).await;
    p1.subscribe(json!({"type": "subscribe", "store": "s1", "view": view(1)})).await;
    let before1 = p1.next_of("snapshot").await["page"].clone();
    let mut p2 = app.ws(&admin).await;
    p2.subscribe(json!({"type": "subscribe", "store": "s1", "view": view(2)})).await;
    let before2 = p2.next_of("snapshot").await["page"].clone();

    let created = admin
        .post("/api/v1/stores/s1/products", json!({"sku": "AAA-FIRST", "name": "!!! First by name", "price": 1}))
        .await;
    created.assert_status(201);
    let new_id = created.json["product"]["id"].as_i64().unwrap();
    let page1 = p1.next_of("page").await;
    assert_eq!(row_ids(&page1)[0], new_id);
    assert_eq!(&row_ids(&page1)[1..], &row_ids(&before1)[..9]);
    let page2 = p2.next_of("page").await;
    assert_eq!(row_ids(&page2)[0], row_ids(&before1)[9], "the last row of page 1 shifted to page 2");
    assert_eq!(&row_ids(&page2)[1..], &row_ids(&before2)[..9]);
    assert_eq!(page2["total"].as_u64().unwrap(), before2["total"].as_u64().unwrap() + 1);

    // A change that moves no row sends no page frame.
    admin.patch(&format!("/api/v1/stores/s1/products/{new_id}"), json!({"stock": 3})).await.assert_status(200);
    let batch = p1.next_of("batch").await;
    assert_eq!(batch["events"][0]["kind"], "product.updated");
    // An in-place edit sends no page frame.
    p1.assert_none_of("page", Duration::from_millis(300)).await;
}

#[actix_web::test]
async fn a_search_view_gets_a_page_when_a_product_enters_or_leaves_it_and_none_for_others() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let mut ws = app.ws(&admin).await;
    let view = json!({"q": "LANTERN", "status": "draft", "sort": "price", "dir": "desc", "page_size": 5});
    ws.subscribe(json!({"type": "subscribe", "store": "s1", "view": view})).await;
    assert_eq!(ws.next_of("snapshot").await["page"]["total"], 0);

    let mut ids = Vec::new();
    for (sku, name, price) in [("LAN-1", "Paper lantern", 100), ("LAN-2", "Stone Lantern", 300)] {
        let created = admin.post("/api/v1/stores/s1/products", json!({"sku": sku, "name": name, "price": price})).await;
        created.assert_status(201);
        ids.push(created.json["product"]["id"].as_i64().unwrap());
        let page = ws.next_of("page").await;
        assert_eq!(
            (page["total"].as_u64(), row_ids(&page)),
            (Some(ids.len() as u64), ids.iter().rev().copied().collect())
        );
    }
    // A product outside the filter changes: no page. The next page frame is
    // the one of the rename below, which takes a lantern out of the search.
    let other = admin.first_product("s1").await;
    admin.patch(&format!("/api/v1/stores/s1/products/{}", other["id"]), json!({"price": 7})).await.assert_status(200);
    // Sorted by price, a cheaper lantern moves last.
    admin.patch(&format!("/api/v1/stores/s1/products/{}", ids[1]), json!({"price": 1})).await.assert_status(200);
    let page = ws.next_of("page").await;
    assert_eq!((page["total"].as_u64(), row_ids(&page)), (Some(2), ids.clone()));
    admin
        .patch(&format!("/api/v1/stores/s1/products/{}", ids[0]), json!({"name": "Paper lamp"}))
        .await
        .assert_status(200);
    let page = ws.next_of("page").await;
    assert_eq!((page["total"].as_u64(), row_ids(&page)), (Some(1), vec![ids[1]]));
    // Published, it leaves the draft filter too.
    admin
        .patch(&format!("/api/v1/stores/s1/products/{}", ids[1]), json!({"status": "active"}))
        .await
        .assert_status(200);
    let page = ws.next_of("page").await;
    assert_eq!((page["total"].as_u64(), row_ids(&page)), (Some(0), vec![]));
}

#[actix_web::test]
async fn publish_view_moves_followers_only() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let viewer = app.login("viewer").await;
    let mut follower = app.ws(&viewer).await;
    follower.subscribe(json!({"type": "subscribe", "store": "s1", "follow": true})).await;
    let mut loner = app.ws(&viewer).await;
    loner.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    let mut publisher = app.ws(&admin).await;
    publisher.subscribe(json!({"type": "subscribe", "store": "s1"})).await;

    publisher.send(json!({"type": "publish_view", "id": 9, "store": "s1", "view": {"page": 3, "page_size": 10}})).await;
    let page = follower.next_of("page").await;
    assert_eq!((page["view"]["page"].as_i64(), page["rows"].as_array().unwrap().len()), (Some(3), 10));
    let batch = loner.next_of("batch").await;
    assert_eq!(batch["events"][0]["kind"], "view.published");
    // The non-follower stays on its page.
    loner.assert_none_of("page", Duration::from_millis(300)).await;

    let mut viewer_ws = app.ws(&viewer).await;
    viewer_ws.send(json!({"type": "publish_view", "id": 1, "store": "s1", "view": {"page": 2}})).await;
    let refused = viewer_ws.next_of("error").await;
    assert_eq!((refused["code"].as_str(), refused["ref"].as_i64()), (Some("forbidden"), Some(1)));
}

#[actix_web::test]
async fn after_switch_store_no_frame_of_the_old_store_arrives() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let mut ws = app.ws(&admin).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    // Keep s1 busy while switching.
    let busy = admin.clone();
    let load = actix_web::rt::spawn(async move { common::write_n(&busy, 30).await });
    let sub = ws.subscribe(json!({"type": "switch_store", "store": "s2"})).await;
    assert_eq!(sub["store"], "s2");
    load.await.unwrap();
    // s1 changes after the switch too.
    common::write_n(&admin, 1).await;
    admin.patch("/api/v1/stores/s2/dashboard", json!({"notice": "hello s2"})).await.assert_status(200);
    loop {
        let frame = ws.next().await;
        assert_ne!(frame["store"], "s1", "a frame of the old store arrived: {frame}");
        if frame["type"] == "batch" {
            assert_eq!(frame["events"][0]["data"]["notice"], "hello s2");
            break;
        }
    }
}

#[actix_web::test]
async fn a_slow_consumer_gets_resync_while_others_keep_receiving() {
    let app = common::spawn_app_with(|c| {
        c.outbox_capacity = 16;
        c.flush_window_ms = 1;
    })
    .await;
    let admin = app.login("admin").await;
    let mut slow: Ws = app.ws(&admin).await;
    // Big page frames on every re-sort fill the socket buffers quickly.
    slow.subscribe(json!({"type": "subscribe", "store": "s1", "view": {"page_size": 200, "sort": "price"}})).await;
    let mut others = Vec::new();
    for _ in 0..100 {
        let mut ws = app.ws(&admin).await;
        let sub = ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["products"]})).await;
        others.push((ws, sub["seq"].as_i64().unwrap()));
    }
    let rows = admin.get("/api/v1/stores/s1/products?page_size=200&sort=price").await.json["rows"].clone();
    let ids: Vec<i64> = rows.as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
    let mut last = 0;
    let readers: Vec<_> = others
        .into_iter()
        .map(|(mut ws, mut applied)| {
            actix_web::rt::spawn(async move {
                let mut frames = Vec::new();
                loop {
                    let frame = ws.next().await;
                    if frame["type"] == "resync" {
                        panic!("a reading client was resynced");
                    }
                    if frame["type"] == "batch" {
                        apply_batch(&mut applied, &frame);
                        frames.push(applied);
                        if frame["events"].as_array().unwrap().iter().any(|e| e["data"]["name"] == "done") {
                            return applied;
                        }
                    }
                }
            })
        })
        .collect();
    for i in 0..400 {
        let id = ids[i % ids.len()];
        let r = admin.patch(&format!("/api/v1/stores/s1/products/{id}"), json!({"price": (i * 7919) % 10_000})).await;
        last = r.json["seq"].as_i64().unwrap();
    }
    let done = admin.patch(&format!("/api/v1/stores/s1/products/{}", ids[0]), json!({"name": "done"})).await;
    last = last.max(done.json["seq"].as_i64().unwrap());
    for r in readers {
        assert_eq!(r.await.unwrap(), last, "every reading client got every change");
    }
    let mut resynced = false;
    while let Some(frame) = slow.try_next(Duration::from_secs(5)).await {
        if frame["type"] == "resync" {
            assert_eq!(frame["reason"], "slow_consumer");
            resynced = true;
            break;
        }
    }
    assert!(resynced, "the slow client was told to resync");
    // Memory stays bounded: once the readers have gone, what is still queued
    // is the stalled client's outbox, at most its capacity, although it was
    // sent hundreds of frames.
    let queued = || app.state.metrics.outbox_frames.get();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while queued() > 16 && std::time::Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(queued() <= 16, "{} frames queued for a stalled client with an outbox of 16", queued());
}

#[actix_web::test]
async fn an_idle_store_drops_its_state_and_reloads_it_on_the_next_request() {
    let app = common::spawn_app_with(|c| c.store_idle_secs = 2).await;
    let loaded = || app.state.metrics.stores_loaded.get();
    let wait_until_loaded = |n: i64| async move {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while loaded() > n && std::time::Instant::now() < deadline {
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        loaded()
    };
    let admin = app.login("admin").await;
    // s2 has a subscriber, so it must stay loaded while s1 goes idle.
    let mut ws = app.ws(&admin).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s2", "topics": ["products"]})).await;
    let other = admin.first_product("s2").await;
    admin.patch(&format!("/api/v1/stores/s2/products/{}", other["id"]), json!({"stock": 3})).await.assert_status(200);
    assert_eq!(ws.next_of("batch").await["events"][0]["data"]["stock"], 3);
    let product = admin.first_product("s1").await;
    let path = format!("/api/v1/stores/s1/products/{}", product["id"]);
    let before = admin.patch(&path, json!({"stock": 11})).await.json["seq"].as_i64().unwrap();
    assert_eq!(loaded(), 2);

    assert_eq!(wait_until_loaded(1).await, 1, "s1 went idle and dropped its state; s2 kept its subscriber");

    // The next request reloads s1 first: its data and seq carry on.
    assert_eq!(admin.get(&path).await.json["stock"], 11);
    let r = admin.patch(&path, json!({"stock": 12})).await;
    r.assert_status(200);
    assert_eq!(r.json["seq"].as_i64().unwrap(), before + 1);
    assert_eq!(admin.get(&path).await.json["stock"], 12);
    assert_eq!(loaded(), 2);

    // s2 refused to hibernate while subscribed; once its last subscriber
    // leaves (no request involved) it goes idle too.
    drop(ws);
    assert_eq!(wait_until_loaded(0).await, 0, "no store is needed any more");

    // Subscribing wakes a store: the snapshot is current.
    let mut ws = app.ws(&admin).await;
    let subscribed = ws.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    assert_eq!(subscribed["seq"].as_i64().unwrap(), before + 1);
    assert_eq!(ws.next_of("snapshot").await["seq"].as_i64().unwrap(), before + 1);
}

#[actix_web::test]
async fn presence_counts_follow_joins_and_leaves_without_any_write() {
    let app = common::spawn_app().await;
    let (admin, viewer) = (app.login("admin").await, app.login("viewer").await);
    let mut watcher = app.ws(&admin).await;
    watcher.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    let next_counts = async |ws: &mut Ws| {
        let p = ws.next_of("presence").await;
        (p["admins"].as_i64().unwrap(), p["viewers"].as_i64().unwrap())
    };
    assert_eq!(next_counts(&mut watcher).await, (1, 0));
    let mut visitor = app.ws(&viewer).await;
    visitor.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    // Within a second of the last presence frame: this one waits for its turn.
    assert_eq!(next_counts(&mut watcher).await, (1, 1));
    drop(visitor);
    assert_eq!(next_counts(&mut watcher).await, (1, 0), "a leave is announced although nothing is written");
}

#[actix_web::test]
async fn presence_counts_the_storefronts_following_published_pages() {
    let app = common::spawn_app().await;
    let (admin, viewer) = (app.login("admin").await, app.login("viewer").await);
    let mut watcher = app.ws(&admin).await;
    watcher.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    assert_eq!(watcher.next_of("presence").await["followers"], 0);
    let mut follower = app.ws(&viewer).await;
    follower.subscribe(json!({"type": "subscribe", "store": "s1", "follow": true})).await;
    let p = watcher.next_of("presence").await;
    assert_eq!((p["viewers"].as_i64(), p["followers"].as_i64()), (Some(1), Some(1)));
    // Subscribing again without follow stops counting it.
    follower.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    let p = watcher.next_of("presence").await;
    assert_eq!((p["viewers"].as_i64(), p["followers"].as_i64()), (Some(1), Some(0)));
}
