//! In-app feedback: any user with a grant on a store sends a rating, a
//! comment and their page's sync statistics; the store's admins list them,
//! newest first, and nobody else does; bad input gets a stable 4xx code.

mod common;

use serde_json::{json, Value};

fn report(rating: i64, comment: &str) -> Value {
    json!({
        "rating": rating,
        "comment": comment,
        "stats": {
            "states": [
                {"state": "connecting", "at": "2026-11-29T01:00:00Z"},
                {"state": "live", "at": "2026-11-29T01:00:01Z"},
                {"state": "reconnecting", "at": "2026-11-29T01:05:00Z"},
                {"state": "live", "at": "2026-11-29T01:05:02Z"},
            ],
            "last_latency_ms": 42,
            "resyncs": 1,
        },
    })
}

/// A user who administers store `s2` only (not a global administrator).
async fn store_admin_of_s2(app: &common::TestApp) -> common::Client {
    let admin = app.login("admin").await;
    let user = admin
        .post("/api/v1/admin/users", json!({"username": "s2boss", "password": common::PASSWORD, "is_admin": false}))
        .await;
    user.assert_status(201);
    let id = user.json["id"].as_i64().unwrap();
    let grant = admin.request(reqwest::Method::PUT, &format!("/api/v1/admin/users/{id}/grants/s2"));
    admin.send(grant.json(&json!({"role": "admin"}))).await.assert_status(200);
    app.login("s2boss").await
}

#[actix_web::test]
async fn any_granted_user_sends_feedback_and_the_store_admins_list_it_newest_first() {
    let app = common::spawn_app().await;
    let viewer = app.login("viewer").await;
    let editor = app.login("editor").await;
    let admin = app.login("admin").await;

    let first = viewer.post("/api/v1/stores/s1/feedback", report(2, "prices lag on the shop floor")).await;
    first.assert_status(201);
    editor.post("/api/v1/stores/s1/feedback", report(5, "")).await.assert_status(201);
    viewer.post("/api/v1/stores/s2/feedback", report(4, "s2 is fine")).await.assert_status(201);

    let list = admin.get("/api/v1/stores/s1/feedback").await;
    list.assert_status(200);
    let reports = list.json.as_array().unwrap();
    assert_eq!(reports.len(), 2, "only s1's: {reports:?}");
    assert_eq!((reports[0]["by"].as_str(), reports[0]["rating"].as_i64()), (Some("user:editor"), Some(5)));
    let oldest = &reports[1];
    assert_eq!(oldest["id"], first.json["id"]);
    assert_eq!(oldest["by"], "user:viewer");
    assert_eq!(oldest["comment"], "prices lag on the shop floor");
    assert_eq!(oldest["stats"], report(2, "")["stats"], "the statistics as sent");
    assert!(oldest["created_at"].as_str().unwrap().ends_with('Z'));

    let latest = admin.get("/api/v1/stores/s1/feedback?limit=1").await;
    assert_eq!(latest.json.as_array().unwrap().len(), 1);
    assert_eq!(latest.json[0]["rating"], 5);
}

#[actix_web::test]
async fn only_the_stores_admins_list_feedback_and_ungranted_stores_do_not_exist() {
    let app = common::spawn_app().await;
    let viewer = app.login("viewer").await;
    let editor = app.login("editor").await;
    viewer.post("/api/v1/stores/s2/feedback", report(3, "ok")).await.assert_status(201);

    viewer.get("/api/v1/stores/s1/feedback").await.assert_error(403, "forbidden");
    editor.get("/api/v1/stores/s1/feedback").await.assert_error(403, "forbidden");
    // The editor of s1 has no grant on s2 or s3: as if they did not exist.
    editor.post("/api/v1/stores/s2/feedback", report(3, "")).await.assert_error(404, "not_found");
    editor.get("/api/v1/stores/s3/feedback").await.assert_error(404, "not_found");
    app.anonymous().post("/api/v1/stores/s1/feedback", report(3, "")).await.assert_error(401, "unauthenticated");

    let boss = store_admin_of_s2(&app).await;
    let theirs = boss.get("/api/v1/stores/s2/feedback").await;
    theirs.assert_status(200);
    assert_eq!(theirs.json[0]["comment"], "ok");
    boss.get("/api/v1/stores/s1/feedback").await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn bad_feedback_gets_a_stable_4xx_code_and_nothing_is_stored() {
    let app = common::spawn_app().await;
    let viewer = app.login("viewer").await;
    let admin = app.login("admin").await;
    let send = |body: Value| {
        let viewer = viewer.clone();
        async move { viewer.post("/api/v1/stores/s1/feedback", body).await }
    };

    for rating in [0, 6, -1] {
        let r = send(report(rating, "")).await;
        r.assert_error(422, "invalid_field");
        assert_eq!(r.json["error"]["details"]["field"], "rating");
    }
    let long = send(report(3, &"x".repeat(2001))).await;
    long.assert_error(422, "invalid_field");
    assert_eq!(long.json["error"]["details"]["field"], "comment");
    let control = send(report(3, "ring\u{7}")).await;
    assert_eq!(control.json["error"]["details"]["field"], "comment");

    let mut unknown = report(3, "");
    unknown["mood"] = json!("grumpy");
    send(unknown).await.assert_error(422, "invalid_field");
    let mut unknown_stat = report(3, "");
    unknown_stat["stats"]["cpu"] = json!(99);
    send(unknown_stat).await.assert_error(422, "invalid_field");
    let mut bad_state = report(3, "");
    bad_state["stats"]["states"][0]["state"] = json!("teleporting");
    send(bad_state).await.assert_error(422, "invalid_field");
    let mut too_many = report(3, "");
    too_many["stats"]["states"] = json!(vec![json!({"state": "live", "at": "2026-11-29T01:00:00Z"}); 51]);
    let r = send(too_many).await;
    assert_eq!((r.status.as_u16(), r.json["error"]["details"]["field"].as_str()), (422, Some("stats.states")));
    let mut no_stats = report(3, "");
    no_stats.as_object_mut().unwrap().remove("stats");
    send(no_stats).await.assert_error(422, "invalid_field");

    send(report(3, &"x".repeat(70_000))).await.assert_error(413, "payload_too_large");
    let raw =
        viewer.request(reqwest::Method::POST, "/api/v1/stores/s1/feedback").header("content-type", "application/json");
    viewer.send(raw.body("{not json")).await.assert_error(400, "malformed_json");
    admin.get("/api/v1/stores/s1/feedback?limit=0").await.assert_error(422, "invalid_field");

    let stored = admin.get("/api/v1/stores/s1/feedback").await;
    assert_eq!(stored.json, json!([]), "nothing refused was stored");
}
