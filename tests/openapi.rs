//! The OpenAPI document says what the server does, where
//! `scripts/schemathesis` found it did not: every reference resolves, the
//! public endpoints need no credential, every route documents the answers
//! of the shared parsing (400, 413, 415), and the export documents CSV.

use serde_json::Value;
use storesync::http::openapi::ApiDoc;
use utoipa::OpenApi;

fn doc() -> Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap()
}

/// Every operation as `(method, path, operation)`.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    out
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_schema_reference_resolves() {
    let doc = doc();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    let missing: Vec<&String> = found
        .iter()
        .filter(|r| {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
            doc["components"]["schemas"].get(name).is_none()
        })
        .collect();
    assert!(missing.is_empty(), "unresolvable references: {missing:?}");
}

#[test]
fn health_metrics_and_login_need_no_credential() {
    let doc = doc();
    for (method, path) in [("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"), ("post", "/api/v1/auth/login")]
    {
        let security = doc["paths"][path][method]["security"].as_array().cloned().unwrap_or_default();
        assert!(security.contains(&serde_json::json!({})), "{method} {path} is documented as needing a credential");
    }
    assert!(doc["paths"]["/api/v1/me"]["get"].get("security").is_none(), "the rest keeps the global security");
}

#[test]
fn every_route_documents_what_the_shared_parsing_answers() {
    let doc = doc();
    for (method, path, op) in operations(&doc) {
        let responses = &op["responses"];
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let parsed_path = params.iter().any(|p| p["in"] == "path" && p["schema"]["type"] != "string");
        let query = params.iter().any(|p| p["in"] == "query");
        let json_body = op["requestBody"]["content"].get("application/json").is_some();
        if parsed_path || query || json_body {
            assert!(responses.get("400").is_some(), "{method} {path} answers 400 on input that does not parse");
        }
        if json_body {
            for status in ["413", "415"] {
                assert!(responses.get(status).is_some(), "{method} {path} answers {status}");
            }
        }
    }
}

#[test]
fn conditional_and_retry_headers_document_their_forms() {
    let doc = doc();
    let op = &doc["paths"]["/api/v1/stores/{store}/products/{id}"]["patch"];
    let header =
        |name: &str| op["parameters"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()["schema"].clone();
    assert!(header("If-Match")["pattern"].is_string());
    assert_eq!(header("Idempotency-Key")["maxLength"], 200);
}

#[test]
fn the_export_documents_both_formats() {
    let doc = doc();
    let content = &doc["paths"]["/api/v1/stores/{store}/products/export"]["get"]["responses"]["200"]["content"];
    assert!(content.get("application/json").is_some() && content.get("text/csv").is_some(), "{content}");
}
