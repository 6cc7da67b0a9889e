//! Text other users will see refuses Unicode bidirectional controls
//! (U+202A–U+202E, U+2066–U+2069, "Trojan Source"), which reorder how it
//! displays: product names (create, patch, JSON and CSV import), dashboard
//! notices, sale order references, API token names. `422 invalid_field`.

mod common;

use reqwest::Method;
use serde_json::json;

const BIDI: [char; 9] =
    ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'];

#[actix_web::test]
async fn bidi_controls_are_refused_wherever_names_and_notices_are_validated() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let product = admin.first_product("s1").await["id"].as_i64().unwrap();
    for c in BIDI {
        // "invoice.pdf" that displays as "invoicefdp.exe" and the like.
        let text = format!("invoice{c}exe.pdf");
        let field = |r: &common::Resp| r.json["error"]["details"]["field"].clone();
        let r = admin.post("/api/v1/stores/s1/products", json!({"sku": "BIDI-1", "name": text, "price": 1})).await;
        r.assert_error(422, "invalid_field");
        assert_eq!(field(&r), "name");
        let r = admin.patch(&format!("/api/v1/stores/s1/products/{product}"), json!({"name": text})).await;
        assert_eq!(field(r.assert_error(422, "invalid_field")), "name");
        let r =
            admin.post("/api/v1/stores/s1/products/import", json!([{"sku": "BIDI-2", "name": text, "price": 1}])).await;
        r.assert_error(422, "invalid_field");
        let csv = format!("sku,name,price\nBIDI-3,{text},1\n");
        let import =
            admin.request(Method::POST, "/api/v1/stores/s1/products/import").header("content-type", "text/csv");
        admin.send(import.body(csv)).await.assert_error(422, "invalid_field");
        let r = admin.patch("/api/v1/stores/s1/dashboard", json!({"notice": text})).await;
        assert_eq!(field(r.assert_error(422, "invalid_field")), "notice");
        let sale = json!({"order_ref": text, "lines": [{"product_id": product, "quantity": 1}]});
        let r = admin.post("/api/v1/stores/s1/sales", sale).await;
        assert_eq!(field(r.assert_error(422, "invalid_field")), "order_ref");
        let token = json!({"name": text, "role": "viewer", "stores": ["s1"]});
        let r = admin.post("/api/v1/admin/tokens", token).await;
        assert_eq!(field(r.assert_error(422, "invalid_field")), "name");
    }
    // Right-to-left scripts themselves are fine, and a notice keeps its lines.
    admin
        .post("/api/v1/stores/s1/products", json!({"sku": "RTL-1", "name": "שלום مرحبا", "price": 1}))
        .await
        .assert_status(201);
    admin
        .patch("/api/v1/stores/s1/dashboard", json!({"notice": "Sale ends Friday\nOpen till 8"}))
        .await
        .assert_status(200);
}
