//! Saved views: editors keep named product-table views per store, shared
//! with everyone who may read the store; saves and deletes are writes of
//! the store (events, seqs, live to subscribers, kept across a reload),
//! and `publish_view` publishes one by name to the following subscribers.

mod common;

use serde_json::{json, Value};

fn names(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect()
}

#[actix_web::test]
async fn editors_save_named_views_that_every_reader_of_the_store_sees() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let viewer = app.login("viewer").await;
    let mut ws = app.ws(&viewer).await;
    let subscribed = ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["products"]})).await;
    let mut applied = subscribed["seq"].as_i64().unwrap();

    let low = json!({"stock_below": 10, "status": "active", "sort": "stock"});
    let saved = editor.request(reqwest::Method::PUT, "/api/v1/stores/s1/views/Low%20stock").json(&low);
    let saved = editor.send(saved).await;
    saved.assert_status(200);
    assert_eq!(
        (&saved.json["saved"]["name"], &saved.json["saved"]["saved_by"]),
        (&json!("Low stock"), &json!("user:editor"))
    );
    assert_eq!(saved.json["saved"]["view"]["stock_below"], 10);
    // Subscribers hear of it as a write of the store.
    let batch = ws.next_of("batch").await;
    let events = common::apply_batch(&mut applied, &batch);
    assert_eq!(
        (&events[0]["kind"], &events[0]["data"]["name"]),
        (&json!("view.saved"), &json!("Low stock")),
        "{batch}"
    );
    assert_eq!(batch["to"], saved.json["seq"]);

    // Everyone who may read the store lists it; only editors write.
    let listed = viewer.get("/api/v1/stores/s1/views").await;
    listed.assert_status(200);
    assert_eq!(names(&listed.json), ["Low stock"]);
    assert_eq!(
        listed.json[0]["view"],
        json!({"page": 1, "page_size": 25, "sort": "stock", "dir": "asc", "status": "active", "stock_below": 10})
    );
    let refused = viewer.request(reqwest::Method::PUT, "/api/v1/stores/s1/views/Mine").json(&low);
    viewer.send(refused).await.assert_error(403, "forbidden");
    viewer.delete("/api/v1/stores/s1/views/Low%20stock").await.assert_error(403, "forbidden");

    // Saving a name again replaces it; a reload keeps what was saved.
    let cheap =
        editor.request(reqwest::Method::PUT, "/api/v1/stores/s1/views/Low%20stock").json(&json!({"price_max": 500}));
    editor.send(cheap).await.assert_status(200);
    let other = editor.request(reqwest::Method::PUT, "/api/v1/stores/s1/views/Ausverkauf%20bald").json(&low);
    editor.send(other).await.assert_status(200);
    let admin = app.login("admin").await;
    admin.post("/api/v1/admin/stores/s1/reload", json!({})).await.assert_status(202);
    ws.next_of("resync").await;
    let listed = viewer.get("/api/v1/stores/s1/views").await;
    assert_eq!(names(&listed.json), ["Ausverkauf bald", "Low stock"]);
    assert_eq!(listed.json[1]["view"]["price_max"], 500);

    let deleted = editor.delete("/api/v1/stores/s1/views/Low%20stock").await;
    deleted.assert_status(200);
    assert_eq!(deleted.json["name"], "Low stock");
    editor.delete("/api/v1/stores/s1/views/Low%20stock").await.assert_error(404, "not_found");
    assert_eq!(names(&viewer.get("/api/v1/stores/s1/views").await.json), ["Ausverkauf bald"]);
    // Another store's views are its own.
    assert_eq!(admin.get("/api/v1/stores/s2/views").await.json, json!([]));
}

#[actix_web::test]
async fn saved_views_are_validated_and_bounded() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let put = |name: String, view: Value| {
        let path = format!("/api/v1/stores/s1/views/{name}");
        let editor = editor.clone();
        async move { editor.send(editor.request(reqwest::Method::PUT, &path).json(&view)).await }
    };
    put("x".repeat(61), json!({})).await.assert_error(422, "invalid_field");
    put("%20%20".into(), json!({})).await.assert_error(422, "invalid_field");
    put("tab%09name".into(), json!({})).await.assert_error(422, "invalid_field");
    put("crossed".into(), json!({"price_min": 9, "price_max": 1})).await.assert_error(422, "invalid_field");
    put("long".into(), json!({"q": "q".repeat(101)})).await.assert_error(422, "invalid_field");
    put("unknown".into(), json!({"colour": "red"})).await.assert_error(422, "invalid_field");
    put("in-the-past".into(), json!({"updated_since": "1999-01-01T00:00:00Z"}))
        .await
        .assert_error(422, "invalid_field");
    assert_eq!(editor.get("/api/v1/stores/s1/views").await.json, json!([]), "nothing refused was saved");
    for i in 0..100 {
        put(format!("view-{i:03}"), json!({"page": i + 1})).await.assert_status(200);
    }
    put("one-too-many".into(), json!({})).await.assert_error(422, "limit_exceeded");
    // Replacing one of the hundred is still a save.
    put("view-000".into(), json!({"q": "again"})).await.assert_status(200);
    assert_eq!(editor.get("/api/v1/stores/s1/views").await.json.as_array().unwrap().len(), 100);
}

#[actix_web::test]
async fn publish_view_publishes_a_saved_view_to_followers() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let view = json!({"q": "s1-0000", "sort": "price", "dir": "desc", "page_size": 5});
    let put = editor.request(reqwest::Method::PUT, "/api/v1/stores/s1/views/Top%20ten").json(&view);
    editor.send(put).await.assert_status(200);
    let viewer = app.login("viewer").await;
    let mut follower = app.ws(&viewer).await;
    follower.subscribe(json!({"type": "subscribe", "store": "s1", "follow": true})).await;
    let mut publisher = app.ws(&editor).await;
    publisher.send(json!({"type": "publish_view", "id": 1, "store": "s1", "name": "Top ten"})).await;
    let page = follower.next_of("page").await;
    assert_eq!((&page["view"]["q"], &page["view"]["dir"]), (&json!("s1-0000"), &json!("desc")));
    assert_eq!(page["total"], 9);
    assert_eq!(page["rows"].as_array().unwrap().len(), 5);

    for (id, frame, code) in [
        (2, json!({"name": "No such view"}), "not_found"),
        (3, json!({"name": "Top ten", "view": {"page": 2}}), "invalid_field"),
        (4, json!({}), "invalid_field"),
        (5, json!({"name": ""}), "invalid_field"),
    ] {
        let mut frame = frame;
        frame["type"] = json!("publish_view");
        frame["store"] = json!("s1");
        frame["id"] = json!(id);
        publisher.send(frame).await;
        let refused = publisher.next_of("error").await;
        assert_eq!((&refused["ref"], &refused["code"]), (&json!(id), &json!(code)), "{refused}");
    }
}
