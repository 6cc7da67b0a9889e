//! Managing people from the admin: disabling a user (sessions, open
//! WebSockets and API tokens end; login is refused), the last enabled
//! global admin kept, store admins granting on their own stores only, and
//! the audit log of every admin change. Refusals get stable codes and
//! change nothing.

mod common;

use reqwest::Method;
use serde_json::{json, Value};

/// The id of a user, as admins list them.
async fn user_id(admin: &common::Client, username: &str) -> i64 {
    let users = admin.get("/api/v1/admin/users").await.json;
    users.as_array().unwrap().iter().find(|u| u["username"] == username).unwrap()["id"].as_i64().unwrap()
}

async fn put(client: &common::Client, path: &str, body: Value) -> common::Resp {
    client.send(client.request(Method::PUT, path).json(&body)).await
}

/// Creates a user with `password` and logs them in.
async fn new_user(app: &common::TestApp, admin: &common::Client, name: &str, is_admin: bool) -> (i64, common::Client) {
    let r = admin
        .post("/api/v1/admin/users", json!({"username": name, "password": "long enough", "is_admin": is_admin}))
        .await;
    let id = r.assert_status(201).json["id"].as_i64().unwrap();
    let login = app.anonymous().post("/api/v1/auth/login", json!({"username": name, "password": "long enough"})).await;
    let token = login.assert_status(200).json["token"].as_str().unwrap().to_owned();
    (id, common::Client { token: Some(token), ..app.anonymous() })
}

async fn login_status(app: &common::TestApp, name: &str) -> u16 {
    let r = app.anonymous().post("/api/v1/auth/login", json!({"username": name, "password": "long enough"})).await;
    r.status.as_u16()
}

#[actix_web::test]
async fn disabling_a_user_ends_their_sessions_sockets_and_tokens_until_enabled_again() {
    let app = common::spawn_app_with(|c| c.revalidate_secs = 1).await;
    let admin = app.login("admin").await;
    let (id, ops) = new_user(&app, &admin, "ops", true).await;
    put(&admin, &format!("/api/v1/admin/users/{id}/grants/s1"), json!({"role": "editor"})).await.assert_status(200);
    let r = ops.post("/api/v1/admin/tokens", json!({"name": "ops-sync", "role": "viewer", "stores": ["s1"]})).await;
    let token = common::Client {
        token: Some(r.assert_status(201).json["token"].as_str().unwrap().to_owned()),
        ..app.anonymous()
    };
    token.get("/api/v1/stores/s1").await.assert_status(200);
    let mut ws = app.ws(&ops).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s1"})).await;

    let r = admin.patch(&format!("/api/v1/admin/users/{id}"), json!({"disabled": true})).await;
    assert_eq!(r.assert_status(200).json["disabled"], true);

    ops.get("/api/v1/me").await.assert_error(401, "unauthenticated");
    token.get("/api/v1/stores/s1").await.assert_error(401, "unauthenticated");
    assert_eq!(ws.close_code().await, Some(4001), "the open WebSocket closed");
    let refused =
        app.anonymous().post("/api/v1/auth/login", json!({"username": "ops", "password": "long enough"})).await;
    refused.assert_error(403, "forbidden");
    let wrong = app.anonymous().post("/api/v1/auth/login", json!({"username": "ops", "password": "wrong one!"})).await;
    wrong.assert_error(401, "bad_credentials");

    admin.patch(&format!("/api/v1/admin/users/{id}"), json!({"disabled": false})).await.assert_status(200);
    assert_eq!(login_status(&app, "ops").await, 200);
    token.get("/api/v1/stores/s1").await.assert_status(200);
}

#[actix_web::test]
async fn the_last_enabled_global_admin_cannot_be_demoted_disabled_or_deleted() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let me = user_id(&admin, "admin").await;
    for change in [json!({"is_admin": false}), json!({"disabled": true}), json!({"is_admin": false, "disabled": true})]
    {
        admin.patch(&format!("/api/v1/admin/users/{me}"), change).await.assert_error(409, "last_admin");
    }
    assert_eq!(admin.get("/api/v1/me").await.assert_status(200).json["user"]["is_admin"], true, "nothing applied");

    // A second admin, disabled, does not count; enabled, it does.
    let (boss, _) = new_user(&app, &admin, "boss", true).await;
    admin.patch(&format!("/api/v1/admin/users/{boss}"), json!({"disabled": true})).await.assert_status(200);
    admin.patch(&format!("/api/v1/admin/users/{me}"), json!({"is_admin": false})).await.assert_error(409, "last_admin");
    admin.patch(&format!("/api/v1/admin/users/{boss}"), json!({"disabled": false})).await.assert_status(200);
    admin.patch(&format!("/api/v1/admin/users/{me}"), json!({"is_admin": false})).await.assert_status(200);
    admin.get("/api/v1/admin/tokens").await.assert_error(403, "forbidden");

    let boss = app.anonymous().post("/api/v1/auth/login", json!({"username": "boss", "password": "long enough"})).await;
    let boss = common::Client { token: Some(boss.json["token"].as_str().unwrap().to_owned()), ..app.anonymous() };
    let boss_id = user_id(&boss, "boss").await;
    boss.delete(&format!("/api/v1/admin/users/{boss_id}")).await.assert_error(409, "conflict");
    boss.patch(&format!("/api/v1/admin/users/{boss_id}"), json!({"disabled": true}))
        .await
        .assert_error(409, "last_admin");
    boss.patch(&format!("/api/v1/admin/users/{boss_id}"), json!({})).await.assert_error(422, "invalid_field");
    boss.patch("/api/v1/admin/users/999999", json!({"disabled": true})).await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn a_store_admin_manages_grants_on_the_stores_they_administer_only() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let (lead_id, lead) = new_user(&app, &admin, "lead", false).await;
    put(&admin, &format!("/api/v1/admin/users/{lead_id}/grants/s2"), json!({"role": "admin"})).await.assert_status(200);
    let viewer = user_id(&admin, "viewer").await;

    // The user list shows only the grants on the lead's own stores.
    let users = lead.get("/api/v1/admin/users").await.assert_status(200).json.clone();
    let viewer_row = users.as_array().unwrap().iter().find(|u| u["id"] == viewer).unwrap().clone();
    assert_eq!(viewer_row["grants"], json!([{"store": "s2", "role": "viewer"}]));

    put(&lead, &format!("/api/v1/admin/users/{viewer}/grants/s2"), json!({"role": "editor"})).await.assert_status(200);
    // A store they have no grant on looks like no store; a lower role is forbidden.
    put(&lead, &format!("/api/v1/admin/users/{viewer}/grants/s1"), json!({"role": "admin"}))
        .await
        .assert_error(404, "not_found");
    put(&admin, &format!("/api/v1/admin/users/{lead_id}/grants/s1"), json!({"role": "editor"}))
        .await
        .assert_status(200);
    put(&lead, &format!("/api/v1/admin/users/{viewer}/grants/s1"), json!({"role": "admin"}))
        .await
        .assert_error(403, "forbidden");
    lead.delete(&format!("/api/v1/admin/users/{viewer}/grants/s1")).await.assert_error(403, "forbidden");
    // Users, tokens and stores stay with global admins.
    lead.post("/api/v1/admin/users", json!({"username": "x", "password": "long enough"}))
        .await
        .assert_error(403, "forbidden");
    lead.patch(&format!("/api/v1/admin/users/{viewer}"), json!({"disabled": true}))
        .await
        .assert_error(403, "forbidden");
    lead.get("/api/v1/admin/tokens").await.assert_error(403, "forbidden");
    lead.get("/api/v1/admin/audit").await.assert_error(403, "forbidden");

    let grants = admin.get("/api/v1/admin/users").await.json;
    let viewer_row = grants.as_array().unwrap().iter().find(|u| u["id"] == viewer).unwrap().clone();
    assert_eq!(viewer_row["grants"], json!([{"store": "s1", "role": "viewer"}, {"store": "s2", "role": "editor"}]));
    lead.delete(&format!("/api/v1/admin/users/{viewer}/grants/s2")).await.assert_status(204);
    app.login("viewer").await.get("/api/v1/stores/s2").await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn every_admin_change_is_in_the_audit_log_with_who_and_when() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let (clerk, _) = new_user(&app, &admin, "clerk", false).await;
    put(&admin, &format!("/api/v1/admin/users/{clerk}/grants/s3"), json!({"role": "viewer"})).await.assert_status(200);
    put(&admin, &format!("/api/v1/admin/users/{clerk}/password"), json!({"password": "another one"}))
        .await
        .assert_status(204);
    let r = admin.post("/api/v1/admin/tokens", json!({"name": "feed", "role": "viewer", "stores": ["s3"]})).await;
    let token = r.assert_status(201).json["id"].as_i64().unwrap();
    admin.delete(&format!("/api/v1/admin/tokens/{token}")).await.assert_status(204);
    let store = json!({"slug": "audit", "name": "Audit", "currency": "EUR", "time_zone": "UTC"});
    admin.post("/api/v1/admin/stores", store).await.assert_status(201);
    admin.patch("/api/v1/admin/stores/audit", json!({"name": "Audited"})).await.assert_status(200);
    admin.post("/api/v1/admin/stores/audit/archive", json!({})).await.assert_status(200);
    admin.delete(&format!("/api/v1/admin/users/{clerk}/grants/s3")).await.assert_status(204);
    // Refused changes leave no entry.
    admin
        .post("/api/v1/admin/users", json!({"username": "clerk", "password": "long enough"}))
        .await
        .assert_error(409, "conflict");
    admin.post("/api/v1/admin/stores/audit/archive", json!({})).await.assert_error(409, "store_archived");

    let log = admin.get("/api/v1/admin/audit").await.assert_status(200).json.clone();
    let entries: Vec<(String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap().to_owned(), e["target"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [
        ("grant.deleted", "user:clerk"),
        ("store.archived", "store:audit"),
        ("store.updated", "store:audit"),
        ("store.created", "store:audit"),
        ("token.revoked", &format!("token:{token}")),
        ("token.created", &format!("token:{token}")),
        ("user.password_reset", "user:clerk"),
        ("grant.put", "user:clerk"),
        ("user.created", "user:clerk"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(a, t)| (a.to_string(), t.to_string())).collect();
    assert_eq!(entries, expected);
    let first = &log[0];
    assert_eq!(first["actor"], "user:admin");
    assert_eq!(first["details"], json!({"store": "s3"}));
    assert!(first["at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().is_ok());
    assert!(!log.to_string().contains("another one"), "no secret in the log");

    let older = admin.get(&format!("/api/v1/admin/audit?limit=2&before={}", log[1]["id"])).await.json.clone();
    assert_eq!(older.as_array().unwrap().len(), 2);
    assert_eq!(older[0]["action"], "store.updated");
    admin.get("/api/v1/admin/audit?limit=0").await.assert_error(422, "invalid_field");
    admin.get("/api/v1/admin/audit?limit=x").await.assert_error(400, "bad_request");
    app.login("editor").await.get("/api/v1/admin/audit").await.assert_error(403, "forbidden");
}
