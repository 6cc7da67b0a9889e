//! BI exports: sales, products and events as CSV or JSON Lines over a time
//! range, streamed page by page; cursors continue without loss or
//! duplicates past more rows than one internal page; CSV cells are guarded
//! against formulas; bad ranges, limits and cursors are 422s; and the
//! integration guide's worked example (docs/examples/bi-export.py) loads an
//! export into SQLite and gets the server's own daily totals.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

/// Rows the server reads per page (`bi_export::PAGE_ROWS`): the test
/// writes more.
const SALES: usize = 520;

/// Creates a store in UTC administered by `admin`.
async fn new_store(admin: &common::Client, slug: &str) {
    let body = json!({"slug": slug, "name": format!("BI {slug}"), "currency": "USD", "time_zone": "UTC"});
    admin.post("/api/v1/admin/stores", body).await.assert_status(201);
}

/// Records `n` sales of one product one minute apart from `start`, 20 at
/// a time; answers their ids.
async fn record_sales(admin: &common::Client, store: &str, product: i64, start: DateTime<Utc>, n: usize) -> Vec<i64> {
    let (mut ids, path) = (Vec::new(), format!("/api/v1/stores/{store}/sales"));
    for chunk in (0..n).collect::<Vec<_>>().chunks(20) {
        let writes = chunk.iter().map(|i| {
            let at = start + Duration::minutes(*i as i64);
            let body = json!({"order_ref": format!("=ORD-{i}"), "lines": [{"product_id": product, "quantity": 1 + (*i as i64 % 3)}], "at": at});
            admin.post(&path, body)
        });
        for r in futures_util::future::join_all(writes).await {
            r.assert_status(201);
            ids.push(r.json["sale"]["sale_id"].as_i64().unwrap());
        }
    }
    ids
}

/// Follows the cursors of an export from `path` (which has its query);
/// answers every CSV record (header left out) and how many answers it took.
async fn follow(client: &common::Client, path: &str) -> (Vec<csv::StringRecord>, usize) {
    let (mut records, mut answers, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let r = client.get(&url).await;
        r.assert_status(200);
        let mut reader = csv::Reader::from_reader(r.text.as_bytes());
        records.extend(reader.records().map(Result::unwrap));
        answers += 1;
        cursor = r.header("x-storesync-next-cursor").map(str::to_owned);
        if cursor.is_none() {
            return (records, answers);
        }
    }
}

#[actix_web::test]
async fn sales_stream_past_a_page_and_cursors_lose_and_repeat_nothing() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    new_store(&admin, "bi").await;
    let product = admin.create_product("bi", "BI-1", 700).await["id"].as_i64().unwrap();
    let start = Utc::now() - Duration::days(3);
    let ids: BTreeSet<i64> = record_sales(&admin, "bi", product, start, SALES).await.into_iter().collect();
    let range = format!("from={}&to={}", (start - Duration::hours(1)).to_rfc3339(), Utc::now().to_rfc3339());
    let range = range.replace('+', "%2B");

    // One answer: every sale, in time order, over two internal pages.
    let (all, answers) = follow(&admin, &format!("/api/v1/stores/bi/export/sales?{range}")).await;
    assert_eq!((all.len(), answers), (SALES, 1));
    let times: Vec<&str> = all.iter().map(|r| r.get(1).unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "ordered by time");
    assert_eq!(&all[0][3], "'=ORD-0", "a formula cell is guarded");
    assert_eq!((&all[0][5], &all[0][4]), ("1", "700"), "units and amount");

    // In answers of 200 rows: the cursors continue where the last stopped.
    let (paged, answers) = follow(&admin, &format!("/api/v1/stores/bi/export/sales?{range}&limit=200")).await;
    assert_eq!(answers, 3);
    let paged_ids: Vec<i64> = paged.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(paged_ids.len(), SALES, "nothing repeated");
    assert_eq!(paged_ids.iter().copied().collect::<BTreeSet<_>>(), ids, "nothing lost");

    // JSON Lines: one object per sale with its lines.
    let r = admin.get(&format!("/api/v1/stores/bi/export/sales?{range}&format=jsonl&limit=3")).await;
    r.assert_status(200);
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    let lines: Vec<Value> = r.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!((&lines[0]["lines"][0]["product_id"], &lines[0]["order_ref"]), (&json!(product), &json!("=ORD-0")));

    // A range narrower than the history: only the sales inside it.
    let narrow = format!(
        "from={}&to={}",
        start.to_rfc3339().replace('+', "%2B"),
        (start + Duration::minutes(10)).to_rfc3339().replace('+', "%2B")
    );
    let (inside, _) = follow(&admin, &format!("/api/v1/stores/bi/export/sales?{narrow}")).await;
    assert_eq!(inside.len(), 10);

    // The worked example of docs/integration.md: the export into SQLite.
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/bi-export.py");
    let db_file = app.dir.path().join("sales.db");
    let (from, to) = ((start - Duration::hours(1)).to_rfc3339(), Utc::now().to_rfc3339());
    let mut cmd = Command::new("python3");
    cmd.arg(script).args(["bi", &from, &to]).arg(&db_file);
    cmd.env("STORESYNC_URL", &app.base).env("STORESYNC_TOKEN", admin.token.clone().unwrap());
    let out = actix_web::rt::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{printed}{}", String::from_utf8_lossy(&out.stderr));
    let mut lines = printed.lines();
    assert_eq!(lines.next(), Some("# 3 answers"), "{printed}");
    let by_day: Vec<(String, i64, i64)> = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].to_owned(), cells[1].parse().unwrap(), cells[2].parse().unwrap())
        })
        .collect();
    let daily = admin
        .get(&format!("/api/v1/stores/bi/sales/daily?from={}&to={}", start.date_naive(), Utc::now().date_naive()))
        .await;
    let expected: Vec<(String, i64, i64)> = daily
        .json
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["orders"].as_i64() > Some(0))
        .map(|p| (p["day"].as_str().unwrap().to_owned(), p["orders"].as_i64().unwrap(), p["revenue"].as_i64().unwrap()))
        .collect();
    assert_eq!(by_day, expected, "the example's totals are the server's");
}

#[actix_web::test]
async fn products_and_events_export_with_guards_and_roles() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let viewer = app.login("viewer").await;
    new_store(&admin, "bx").await;
    let rows: Vec<Value> = (0..600)
        .map(|i| json!({"sku": format!("BX-{i:04}"), "name": if i == 0 { "=HYPERLINK(\"x\")".to_owned() } else { format!("Item {i}") }, "price": 100 + i}))
        .collect();
    admin.post("/api/v1/stores/bx/products/import", json!(rows)).await.assert_status(200);

    let (products, answers) = follow(&admin, "/api/v1/stores/bx/export/products?format=csv&limit=250").await;
    assert_eq!((products.len(), answers), (600, 3));
    assert!(products.iter().any(|r| &r[2] == "'=HYPERLINK(\"x\")"), "the formula name is guarded");
    let ids: BTreeSet<&str> = products.iter().map(|r| r.get(0).unwrap()).collect();
    assert_eq!(ids.len(), 600);

    // Events: the store's stream, JSON Lines past a page; the cursor is the
    // next seq's.
    let r = admin.get("/api/v1/stores/bx/export/events?format=jsonl").await;
    r.assert_status(200);
    let events: Vec<Value> = r.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 600);
    assert!(events.windows(2).all(|w| w[1]["seq"].as_i64() == w[0]["seq"].as_i64().map(|s| s + 1)));
    assert!(events.iter().all(|e| e["kind"] == "product.created"));

    // Viewers export sales and products of their stores, not events.
    viewer.get("/api/v1/stores/s1/export/products?limit=1").await.assert_status(200);
    viewer.get("/api/v1/stores/s1/export/events").await.assert_error(403, "forbidden");
    viewer.get("/api/v1/stores/bx/export/sales").await.assert_error(404, "not_found");
    app.anonymous().get("/api/v1/stores/s1/export/sales").await.assert_status(401);
}

#[actix_web::test]
async fn bad_ranges_limits_and_cursors_are_refused() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let bad = [
        ("sales?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "from"),
        ("events?from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z", "to"),
        ("sales?from=1999-12-31T00:00:00Z&to=2000-01-02T00:00:00Z", "from"),
        ("products?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "from"),
        ("sales?limit=0", "limit"),
        ("sales?limit=1000001", "limit"),
        ("sales?cursor=garbage", "cursor"),
        ("products?cursor=events.12", "cursor"),
        ("sales?cursor=sales.99999999999999999.1", "cursor"),
    ];
    for (query, field) in bad {
        let r = admin.get(&format!("/api/v1/stores/s1/export/{query}")).await;
        r.assert_error(422, "invalid_field");
        assert_eq!(r.json["error"]["details"]["field"], field, "{query}: {}", r.text);
    }
    for query in ["sales?format=xml", "sales?from=yesterday", "sales?page=2"] {
        admin.get(&format!("/api/v1/stores/s1/export/{query}")).await.assert_status(400);
    }
    admin.get("/api/v1/stores/nope/export/sales").await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn metrics_answer_an_openmetrics_scraper_in_the_prometheus_text_format() {
    let app = common::spawn_app().await;
    let scrape = app
        .anonymous()
        .request(reqwest::Method::GET, "/metrics")
        .header("accept", "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4");
    let r = app.anonymous().send(scrape).await;
    r.assert_status(200);
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4"));
    assert!(r.text.contains("# TYPE storesync_"), "{}", &r.text[..r.text.len().min(500)]);
}
