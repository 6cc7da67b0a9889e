//! Live filters beyond `q` and `status`: a price range, stock below a
//! level, updated since, image present. They combine with each other and
//! with search, are validated like the rest of a view, and a subscriber's
//! page stays live under them: rows enter and leave as their values change.

mod common;

use serde_json::{json, Value};

/// Ids of a page's rows.
fn ids(page: &Value) -> Vec<i64> {
    page["rows"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect()
}

#[actix_web::test]
async fn filters_combine_over_rest_and_refuse_what_is_out_of_range() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let mut made = Vec::new();
    for (i, (price, stock)) in [(1_001, 3), (1_002, 30), (1_003, 4), (5_000, 2)].into_iter().enumerate() {
        let p = editor.create_product("s1", &format!("FILTER-{i}"), price).await;
        let id = p["id"].as_i64().unwrap();
        editor.patch(&format!("/api/v1/stores/s1/products/{id}"), json!({"stock": stock})).await.assert_status(200);
        made.push(id);
    }
    let list = |query: &str| format!("/api/v1/stores/s1/products?page_size=200&sort=price&{query}");
    let range = editor.get(&list("price_min=1001&price_max=1003")).await;
    range.assert_status(200);
    let found = ids(&range.json);
    assert!(made[..3].iter().all(|id| found.contains(id)) && !found.contains(&made[3]), "{}", range.json);
    assert!(range.json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| (1_001..=1_003).contains(&p["price"].as_i64().unwrap())));
    let combined = editor.get(&list("q=filter-&price_min=1001&price_max=1003&stock_below=10&status=active")).await;
    assert_eq!(ids(&combined.json), vec![made[0], made[2]], "{}", combined.json);
    assert_eq!(combined.json["total"], 2);
    // The page says which filters it applied.
    assert_eq!(combined.json["view"]["stock_below"], 10);

    // Updated since the last write: only what changed since then.
    let last = editor.get(&format!("/api/v1/stores/s1/products/{}", made[3])).await.json["updated_at"].clone();
    let since = editor.get(&list(&format!("updated_since={}", last.as_str().unwrap().replace('+', "%2B")))).await;
    since.assert_status(200);
    assert_eq!(ids(&since.json), vec![made[3]], "{}", since.json);
    // No seeded product has an image.
    let with_image = editor.get(&list("has_image=true")).await;
    assert_eq!(with_image.json["total"], 0);
    let without = editor.get("/api/v1/stores/s1/products?has_image=false&page_size=1").await;
    assert_eq!(without.json["total"], editor.get("/api/v1/stores/s1/products?page_size=1").await.json["total"]);
    // Filters that match nothing answer an empty page.
    let none = editor.get(&list("stock_below=0")).await;
    assert_eq!((&none.json["total"], ids(&none.json).len()), (&json!(0), 0));

    for (query, field) in [
        ("price_min=-1", "price_min"),
        ("price_max=1000000000001", "price_max"),
        ("price_min=10&price_max=9", "price_max"),
        ("stock_below=-5", "stock_below"),
        ("updated_since=1999-12-31T23:59:59Z", "updated_since"),
        ("updated_since=2101-01-01T00:00:00Z", "updated_since"),
    ] {
        let r = editor.get(&list(query)).await;
        r.assert_error(422, "invalid_field");
        assert!(r.json["error"]["message"].as_str().unwrap().contains(field), "{query}: {}", r.json);
    }
    for query in ["updated_since=yesterday", "has_image=maybe", "price_min=cheap", "stock_above=3"] {
        editor.get(&list(query)).await.assert_error(400, "bad_request");
    }
}

#[actix_web::test]
async fn a_filtered_page_stays_live_as_rows_enter_and_leave() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let inside = editor.create_product("s1", "LIVE-IN", 77_001).await["id"].as_i64().unwrap();
    let outside = editor.create_product("s1", "LIVE-OUT", 90_000).await["id"].as_i64().unwrap();
    let mut ws = app.ws(&editor).await;
    let view = json!({"price_min": 77_000, "price_max": 77_999, "stock_below": 50, "sort": "price"});
    ws.subscribe(json!({"type": "subscribe", "store": "s1", "view": view})).await;
    let snapshot = ws.next_of("snapshot").await;
    assert_eq!(ids(&snapshot["page"]), vec![inside]);

    let path = |id: i64| format!("/api/v1/stores/s1/products/{id}");
    // A price edit brings a product into the range: it enters the page.
    editor.patch(&path(outside), json!({"price": 77_500})).await.assert_status(200);
    let page = ws.next_of("page").await;
    assert_eq!((ids(&page), &page["total"]), (vec![inside, outside], &json!(2)));
    // Stock over the level takes one out again.
    editor.patch(&path(inside), json!({"stock": 50})).await.assert_status(200);
    let page = ws.next_of("page").await;
    assert_eq!((ids(&page), &page["total"]), (vec![outside], &json!(1)));

    // A view out of range is refused over the socket too; the held one stays.
    let crossed = json!({"id": 7, "type": "set_view", "store": "s1", "view": {"price_min": 9, "price_max": 1}});
    ws.send(crossed).await;
    let refused = ws.next_of("error").await;
    assert_eq!((&refused["ref"], &refused["code"]), (&json!(7), &json!("invalid_field")));
    editor.patch(&path(inside), json!({"stock": 1})).await.assert_status(200);
    let page = ws.next_of("page").await;
    assert_eq!(ids(&page), vec![inside, outside]);
}
