//! Scheduled changes: an editor schedules a product, dashboard or bulk
//! change for a time; the store applies it then, once, as a write of its
//! own (events, seqs, live to subscribers), or fails it visibly with its
//! reason and changes nothing. Pending changes may be edited and cancelled
//! until their time. The restart case runs the binary as a child process
//! (as `tests/durability.rs` does); the cluster case is in `tests/cluster.rs`.

mod common;

use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use common::Client;
use reqwest::Method;
use serde_json::{json, Value};

/// An RFC 3339 time `ms` milliseconds from now, to the millisecond.
fn due_in(ms: i64) -> String {
    (Utc::now() + TimeDelta::milliseconds(ms)).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Schedules `change` in s1 for `due_at`.
async fn schedule(client: &Client, due_at: &str, change: Value) -> common::Resp {
    client.post("/api/v1/stores/s1/schedule", json!({"due_at": due_at, "change": change})).await
}

/// Polls a scheduled change of `store` until it is no longer pending (30 s
/// at most).
async fn settled_in(client: &Client, store: &str, id: i64) -> Value {
    let started = Instant::now();
    loop {
        let got = client.get(&format!("/api/v1/stores/{store}/schedule/{id}")).await;
        got.assert_status(200);
        if got.json["status"] != "pending" {
            return got.json;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "still pending: {}", got.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `settled_in` s1.
async fn settled(client: &Client, id: i64) -> Value {
    settled_in(client, "s1", id).await
}

/// s1's events after `since`.
async fn events_since(client: &Client, since: i64) -> Vec<Value> {
    let page = client.get(&format!("/api/v1/stores/s1/events?since={since}&limit=1000")).await;
    page.assert_status(200);
    page.json["events"].as_array().unwrap().clone()
}

/// The events of `kind` about entity `id`.
fn of<'a>(events: &'a [Value], kind: &str, id: i64) -> Vec<&'a Value> {
    events.iter().filter(|e| e["kind"] == kind && e["entity_id"] == id).collect()
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

/// A server with the demo editor, viewer and admin logged in.
async fn logged_in() -> (common::TestApp, [Client; 3]) {
    let app = common::spawn_app().await;
    let people = [app.login("editor").await, app.login("viewer").await, app.login("admin").await];
    (app, people)
}

#[actix_web::test]
async fn a_scheduled_change_is_applied_at_its_time_once_and_live() {
    let (app, [editor, viewer, _]) = logged_in().await;
    let product = editor.create_product("s1", "SCHED-1", 1000).await;
    let id = product["id"].as_i64().unwrap();
    let mut ws = app.ws(&viewer).await;
    let subscribed = ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["products"]})).await;
    let mut applied = subscribed["seq"].as_i64().unwrap();
    let before = applied;

    let change = json!({"kind": "product", "id": id, "if_version": product["version"], "patch": {"price": 750, "status": "draft"}});
    let created = schedule(&editor, &due_in(1500), change.clone()).await;
    created.assert_status(201);
    let scheduled = &created.json["scheduled"];
    assert_eq!(
        (&scheduled["status"], &scheduled["created_by"], &scheduled["change"]),
        (&json!("pending"), &json!("user:editor"), &change)
    );
    let sid = scheduled["id"].as_i64().unwrap();
    let notice = json!({"kind": "dashboard", "patch": {"notice": "Sale starts now", "revenue_target": 99000}});
    let notice = schedule(&editor, &due_in(1500), notice).await;
    let notice_id = notice.assert_status(201).json["scheduled"]["id"].as_i64().unwrap();

    // Subscribers see it scheduled, then applied with the change's own event.
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|e: &Value| e["kind"] == "schedule.updated" && e["data"]["status"] == "applied" && e["entity_id"] == sid)
    {
        let batch = ws.next_of("batch").await;
        seen.extend(common::apply_batch(&mut applied, &batch));
    }
    assert_eq!(seen[0]["data"]["status"], "pending", "{seen:?}");
    let done = settled(&editor, sid).await;
    assert_eq!(done["status"], "applied", "{done}");
    let lag = time(&done["updated_at"]) - time(&done["due_at"]);
    assert!(lag >= TimeDelta::zero() && lag < TimeDelta::seconds(15), "applied {lag} after its time");
    assert_eq!(done["late"], lag > TimeDelta::seconds(1), "late says whether it missed its second: {done}");
    let now = editor.get(&format!("/api/v1/stores/s1/products/{id}")).await;
    assert_eq!((&now.json["price"], &now.json["status"]), (&json!(750), &json!("draft")));
    assert_eq!(settled(&editor, notice_id).await["status"], "applied");
    let dashboard = editor.get("/api/v1/stores/s1/dashboard").await;
    assert_eq!(
        (&dashboard.json["notice"], &dashboard.json["revenue_target"]),
        (&json!("Sale starts now"), &json!(99000))
    );

    // Exactly once: one product event at the seq just before the row's.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let events = events_since(&editor, before).await;
    let updates = of(&events, "product.updated", id);
    assert_eq!(updates.len(), 1, "{events:?}");
    assert_eq!(updates[0]["by"], "user:editor");
    let lifecycle: Vec<&Value> =
        of(&events, "schedule.updated", sid).into_iter().map(|e| &e["data"]["status"]).collect();
    assert_eq!(lifecycle, [&json!("pending"), &json!("applied")]);
    assert_eq!(done["applied_seq"], of(&events, "schedule.updated", sid)[1]["seq"]);
    assert_eq!(updates[0]["seq"].as_i64().unwrap() + 1, done["applied_seq"].as_i64().unwrap());

    // Listed by status, for everyone who may read the store.
    let listed = viewer.get("/api/v1/stores/s1/schedule?status=applied").await;
    assert_eq!(listed.assert_status(200).json.as_array().unwrap().len(), 2);
    assert_eq!(viewer.get("/api/v1/stores/s1/schedule?status=pending").await.json, json!([]));
    // Settled: no more edits.
    let path = format!("/api/v1/stores/s1/schedule/{sid}");
    editor.patch(&path, json!({"due_at": due_in(60_000)})).await.assert_error(409, "conflict");
    editor.delete(&path).await.assert_error(409, "conflict");
}

#[actix_web::test]
async fn pending_changes_are_edited_and_cancelled_until_due_by_editors_only() {
    let (_app, [editor, viewer, admin]) = logged_in().await;
    let product = editor.first_product("s1").await;
    let id = product["id"].as_i64().unwrap();
    let later = due_in(3_600_000);
    let created = schedule(&editor, &later, json!({"kind": "product", "id": id, "patch": {"stock": 5}})).await;
    let sid = created.assert_status(201).json["scheduled"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/stores/s1/schedule/{sid}");

    // Edit: a new time and a new change, checked as when scheduled.
    let sooner = due_in(1500);
    let edited = editor
        .patch(&path, json!({"due_at": sooner, "change": {"kind": "product", "id": id, "patch": {"stock": 6}}}))
        .await;
    edited.assert_status(200);
    assert_eq!(edited.json["scheduled"]["change"]["patch"], json!({"stock": 6}));
    assert_eq!(time(&edited.json["scheduled"]["due_at"]), time(&json!(sooner)));
    editor.patch(&path, json!({})).await.assert_error(422, "invalid_field");
    editor.patch(&path, json!({"due_at": due_in(-1000)})).await.assert_error(422, "invalid_field");
    viewer.patch(&path, json!({"due_at": due_in(60_000)})).await.assert_error(403, "forbidden");
    viewer.delete(&path).await.assert_error(403, "forbidden");
    assert_eq!(viewer.get(&path).await.assert_status(200).json["id"], sid);
    // Another store's ids are unknown there.
    admin.get(&format!("/api/v1/stores/s2/schedule/{sid}")).await.assert_error(404, "not_found");
    admin.delete(&format!("/api/v1/stores/s2/schedule/{sid}")).await.assert_error(404, "not_found");
    editor.get("/api/v1/stores/s2/schedule").await.assert_error(404, "not_found");

    // The edited time and change are what is applied.
    assert_eq!(settled(&editor, sid).await["status"], "applied");
    assert_eq!(editor.get(&format!("/api/v1/stores/s1/products/{id}")).await.json["stock"], 6);

    // Cancelled before its time: never applied.
    let created = schedule(&editor, &due_in(1500), json!({"kind": "product", "id": id, "patch": {"stock": 7}})).await;
    let sid = created.assert_status(201).json["scheduled"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/stores/s1/schedule/{sid}");
    let cancelled = editor.delete(&path).await;
    assert_eq!(cancelled.assert_status(200).json["scheduled"]["status"], "cancelled");
    editor.delete(&path).await.assert_error(409, "conflict");
    editor.patch(&path, json!({"due_at": due_in(60_000)})).await.assert_error(409, "conflict");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(editor.get(&path).await.json["status"], "cancelled");
    assert_eq!(editor.get(&format!("/api/v1/stores/s1/products/{id}")).await.json["stock"], 6);
}

#[actix_web::test]
async fn changes_that_became_invalid_fail_with_their_reason_and_change_nothing() {
    let (_app, [editor, _, admin]) = logged_in().await;
    let [a, b, c, d, e] = [1, 2, 3, 4, 5].map(|i| format!("SCHED-F{i}"));
    let (a, b, c) = (
        admin.create_product("s1", &a, 100).await,
        admin.create_product("s1", &b, 200).await,
        admin.create_product("s1", &c, 300).await,
    );
    let (d, e) = (admin.create_product("s1", &d, 400).await, admin.create_product("s1", &e, 500).await);
    let id = |p: &Value| p["id"].as_i64().unwrap();
    let due = due_in(5000);
    let stale = json!({"kind": "product", "id": id(&a), "if_version": a["version"], "patch": {"price": 1}});
    let gone = json!({"kind": "product", "id": id(&b), "patch": {"price": 2}});
    let revoked = json!({"kind": "product", "id": id(&c), "patch": {"stock": 77}});
    let bulk = json!({"kind": "bulk", "ids": [id(&d), id(&e)], "change": {"op": "set_stock", "stock": 42}});
    // An integration's API token, revoked before its change is due.
    let token = admin.post("/api/v1/admin/tokens", json!({"name": "sched", "role": "editor", "stores": ["s1"]})).await;
    let token_id = token.assert_status(201).json["id"].as_i64().unwrap();
    let integration = Client { token: token.json["token"].as_str().map(str::to_owned), ..admin.clone() };
    let by_token = json!({"kind": "product", "id": id(&c), "patch": {"price": 333}});
    let mut ids = Vec::new();
    let writes = [(&admin, stale), (&admin, gone), (&editor, revoked), (&admin, bulk), (&integration, by_token)];
    for (client, change) in writes {
        ids.push(schedule(client, &due, change).await.assert_status(201).json["scheduled"]["id"].as_i64().unwrap());
    }
    let before = admin.get("/api/v1/stores/s1/events?since=0&limit=1").await.json["last_seq"].as_i64().unwrap();

    // Before they are due: a's version moves on, b is deleted, and the
    // editor loses the store.
    admin.patch(&format!("/api/v1/stores/s1/products/{}", id(&a)), json!({"price": 111})).await.assert_status(200);
    admin.delete(&format!("/api/v1/stores/s1/products/{}", id(&b))).await.assert_status(200);
    let users = admin.get("/api/v1/admin/users").await.json;
    let editor_id =
        users.as_array().unwrap().iter().find(|u| u["username"] == "editor").unwrap()["id"].as_i64().unwrap();
    let revoke = admin.request(Method::DELETE, &format!("/api/v1/admin/users/{editor_id}/grants/s1"));
    admin.send(revoke).await.assert_status(204);
    admin.delete(&format!("/api/v1/admin/tokens/{token_id}")).await.assert_status(204);

    let reasons: Vec<(Value, Value)> = {
        let mut out = Vec::new();
        for sid in &ids {
            let row = settled(&admin, *sid).await;
            out.push((row["status"].clone(), row["reason"].clone()));
        }
        out
    };
    assert_eq!(
        reasons,
        [
            (json!("failed"), json!("version_stale")),
            (json!("failed"), json!("not_found")),
            (json!("failed"), json!("access_revoked")),
            (json!("applied"), Value::Null),
            (json!("failed"), json!("access_revoked")),
        ]
    );
    assert!(admin.get(&format!("/api/v1/stores/s1/schedule/{}", ids[2])).await.json["message"]
        .as_str()
        .unwrap()
        .contains("editor"));
    let product = async |p: &Value| admin.get(&format!("/api/v1/stores/s1/products/{}", id(p))).await.json;
    assert_eq!(product(&a).await["price"], 111);
    assert_eq!((product(&c).await["stock"].clone(), product(&c).await["price"].clone()), (json!(10), json!(300)));
    assert_eq!((product(&d).await["stock"].clone(), product(&e).await["stock"].clone()), (json!(42), json!(42)));
    // The failures changed nothing: no product event but the bulk change's.
    let events = events_since(&admin, before + 2).await;
    let touched: Vec<i64> =
        events.iter().filter(|e| e["kind"] != "schedule.updated").map(|e| e["entity_id"].as_i64().unwrap()).collect();
    assert_eq!(touched, [id(&d), id(&e)], "{events:?}");
}

#[actix_web::test]
async fn bad_schedules_are_refused_with_clear_codes() {
    let (app, [editor, viewer, admin]) = logged_in().await;
    let product = editor.first_product("s1").await;
    let id = product["id"].as_i64().unwrap();
    let patch = |id: i64| json!({"kind": "product", "id": id, "patch": {"price": 5}});
    let due = due_in(60_000);

    for when in [due_in(-1000), due_in(400 * 86_400_000), "9999-12-31T23:59:59Z".to_owned()] {
        let r = schedule(&editor, &when, patch(id)).await;
        r.assert_error(422, "invalid_field");
        assert_eq!(r.json["error"]["details"]["field"], "due_at", "{when}");
    }
    schedule(&editor, &due, patch(i64::MAX)).await.assert_error(404, "not_found");
    let theirs = admin.first_product("s2").await["id"].as_i64().unwrap();
    schedule(&editor, &due, patch(theirs)).await.assert_error(404, "not_found");
    let stale = json!({"kind": "product", "id": id, "if_version": product["version"].as_i64().unwrap() + 1, "patch": {"price": 5}});
    schedule(&editor, &due, stale).await.assert_error(412, "version_stale");
    schedule(&editor, &due, json!({"kind": "product", "id": id, "patch": {}})).await.assert_error(422, "invalid_field");
    schedule(&editor, &due, json!({"kind": "product", "id": id, "patch": {"price": -1}}))
        .await
        .assert_error(422, "invalid_field");
    schedule(&editor, &due, json!({"kind": "sale"})).await.assert_error(422, "invalid_field");
    let unknown_rows = json!({"kind": "bulk", "ids": [id, i64::MAX], "change": {"op": "set_stock", "stock": 1}});
    schedule(&editor, &due, unknown_rows).await.assert_error(422, "invalid_field");
    schedule(&editor, &due, json!({"kind": "bulk", "change": {"op": "delete"}}))
        .await
        .assert_error(422, "invalid_field");
    let no_change = editor.post("/api/v1/stores/s1/schedule", json!({"due_at": due}));
    no_change.await.assert_error(422, "invalid_field");
    let garbage =
        editor.request(Method::POST, "/api/v1/stores/s1/schedule").header("content-type", "application/json").body("{");
    editor.send(garbage).await.assert_error(400, "malformed_json");
    schedule(&viewer, &due, patch(id)).await.assert_error(403, "forbidden");
    schedule(&app.anonymous(), &due, patch(id)).await.assert_error(401, "unauthenticated");
    editor.get("/api/v1/stores/s1/schedule?status=done").await.assert_error(400, "bad_request");
    editor.get("/api/v1/stores/s1/schedule/x").await.assert_error(400, "bad_request");
    editor.get("/api/v1/stores/s1/schedule/123456789").await.assert_error(404, "not_found");
    assert_eq!(editor.get("/api/v1/stores/s1/schedule").await.json, json!([]), "nothing was scheduled");
}

#[actix_web::test]
async fn a_restart_that_spans_the_due_time_applies_it_late_and_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _) = common::start_server(dir.path(), &[]);
    let editor = common::login_at(&base, "editor").await;
    let product = editor.first_product("s1").await;
    let id = product["id"].as_i64().unwrap();
    let before = editor.get("/api/v1/stores/s1/events?since=0&limit=1").await.json["last_seq"].as_i64().unwrap();
    let created =
        schedule(&editor, &due_in(2000), json!({"kind": "product", "id": id, "patch": {"stock": 4321}})).await;
    let sid = created.assert_status(201).json["scheduled"]["id"].as_i64().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(3500)).await;

    let (mut child, base, _) = common::start_server(dir.path(), &[]);
    let editor = common::login_at(&base, "editor").await;
    let done = settled(&editor, sid).await;
    assert_eq!((&done["status"], &done["late"]), (&json!("applied"), &json!(true)), "{done}");
    assert_eq!(editor.get(&format!("/api/v1/stores/s1/products/{id}")).await.json["stock"], 4321);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let events = events_since(&editor, before).await;
    assert_eq!(of(&events, "product.updated", id).len(), 1, "{events:?}");
    assert_eq!(of(&events, "schedule.updated", sid).len(), 2, "{events:?}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[actix_web::test]
async fn a_store_that_went_idle_wakes_to_apply_its_change() {
    let app = common::spawn_app_with(|c| c.store_idle_secs = 1).await;
    let editor = app.login("editor").await;
    let id = editor.first_product("s1").await["id"].as_i64().unwrap();
    let created = schedule(&editor, &due_in(4000), json!({"kind": "product", "id": id, "patch": {"stock": 55}})).await;
    let sid = created.assert_status(201).json["scheduled"]["id"].as_i64().unwrap();
    // Listing and reading scheduled changes read the database, not the store.
    let started = Instant::now();
    while app.state.metrics.stores_loaded.get() > 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "the store did not go idle");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(settled(&editor, sid).await["status"], "applied");
    assert_eq!(editor.get(&format!("/api/v1/stores/s1/products/{id}")).await.json["stock"], 55);
}

#[actix_web::test]
async fn a_change_due_in_a_store_archived_since_fails_store_archived() {
    let (_app, [_, _, admin]) = logged_in().await;
    let notice = json!({"kind": "dashboard", "patch": {"notice": "never shown"}});
    let created = admin.post("/api/v1/stores/s3/schedule", json!({"due_at": due_in(3000), "change": notice})).await;
    let sid = created.assert_status(201).json["scheduled"]["id"].as_i64().unwrap();
    admin.post("/api/v1/admin/stores/s3/archive", Value::Null).await.assert_status(200);
    let row = settled_in(&admin, "s3", sid).await;
    assert_eq!((&row["status"], &row["reason"]), (&json!("failed"), &json!("store_archived")), "{row}");
    assert_ne!(admin.get("/api/v1/stores/s3/dashboard").await.json["notice"], "never shown");
}
