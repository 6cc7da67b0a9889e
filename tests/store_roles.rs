//! The WebSocket store list (`hello`, `stores`) carries the session's role
//! in each store, and a role changed while connected is sent again, so the
//! admin page can switch between its editing and read-only views without a
//! reload.

mod common;

use reqwest::Method;
use serde_json::{json, Value};

/// The (slug, role) pairs of a store list.
fn roles(stores: &Value) -> Vec<(String, String)> {
    let entry = |s: &Value| (s["slug"].as_str().unwrap().to_owned(), s["role"].as_str().unwrap().to_owned());
    stores.as_array().unwrap().iter().map(entry).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(slug, role)| (slug.to_string(), role.to_string())).collect()
}

#[actix_web::test]
async fn a_role_changed_while_connected_reaches_the_session_in_its_store_list() {
    let app = common::spawn_app_with(|c| c.revalidate_secs = 1).await;
    let admin = app.login("admin").await;
    let viewer = app.login("viewer").await;
    let mut ws = app.ws(&viewer).await;

    let users = admin.get("/api/v1/admin/users").await.json;
    let id = users.as_array().unwrap().iter().find(|u| u["username"] == "viewer").unwrap()["id"].clone();
    let grant = admin.request(Method::PUT, &format!("/api/v1/admin/users/{id}/grants/s2"));
    admin.send(grant.json(&json!({"role": "editor"}))).await.assert_status(200);

    // Within the revalidate interval; the same list as GET /stores answers.
    let stores = ws.next_of("stores").await;
    assert_eq!(roles(&stores["stores"]), pairs(&[("s1", "viewer"), ("s2", "editor")]));
    assert_eq!(roles(&viewer.get("/api/v1/stores").await.json), roles(&stores["stores"]));
}
