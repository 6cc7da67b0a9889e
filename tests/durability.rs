//! Durability: the server runs as a child process, is SIGKILLed in the
//! middle of concurrent writes and restarted on the same data dir. Every
//! write that was acknowledged is there, and seqs continue without gaps or
//! repeats.

mod common;

use std::time::Duration;

use serde_json::json;

#[actix_web::test]
async fn acknowledged_writes_survive_sigkill_and_seqs_continue() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _) = common::start_server(dir.path(), &[]);
    let admin = common::login_at(&base, "admin").await;

    let (ack_tx, mut ack_rx) = tokio::sync::mpsc::unbounded_channel::<(i64, i64)>();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let c = admin.clone();
            let ack_tx = ack_tx.clone();
            actix_web::rt::spawn(async move {
                for i in 0.. {
                    let body = json!({"sku": format!("DUR-{w}-{i}"), "name": "durable", "price": 1});
                    let Ok(r) = c.request(reqwest::Method::POST, "/api/v1/stores/s1/products").json(&body).send().await
                    else {
                        break;
                    };
                    if r.status() != 201 {
                        break;
                    }
                    let Ok(v) = r.json::<serde_json::Value>().await else {
                        break;
                    };
                    let _ = ack_tx.send((v["product"]["id"].as_i64().unwrap(), v["seq"].as_i64().unwrap()));
                }
            })
        })
        .collect();
    drop(ack_tx);
    // Kill once a good number of writes were acknowledged, writers still running.
    let mut acked = Vec::new();
    while acked.len() < 300 {
        let ack = tokio::time::timeout(Duration::from_secs(30), ack_rx.recv()).await;
        acked.push(ack.ok().flatten().expect("writes stalled"));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for w in writers {
        let _ = w.await;
    }
    while let Ok(ack) = ack_rx.try_recv() {
        acked.push(ack);
    }

    let (mut child, base, _) = common::start_server(dir.path(), &[]);
    let admin = common::login_at(&base, "admin").await;
    for (id, _) in &acked {
        admin.get(&format!("/api/v1/stores/s1/products/{id}")).await.assert_status(200);
    }
    let max_acked = acked.iter().map(|(_, seq)| *seq).max().unwrap();
    let mut seqs = Vec::new();
    let mut since = 0;
    loop {
        let page = admin.get(&format!("/api/v1/stores/s1/events?since={since}&limit=1000")).await;
        let events = page.json["events"].as_array().unwrap().clone();
        if events.is_empty() {
            break;
        }
        seqs.extend(events.iter().map(|e| e["seq"].as_i64().unwrap()));
        since = page.json["next_since"].as_i64().unwrap();
    }
    let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
    assert_eq!(seqs, expected, "no gaps or repeats");
    assert!(seqs.len() as i64 >= max_acked);
    let next = admin.post("/api/v1/stores/s1/products", json!({"sku": "AFTER", "name": "after", "price": 1})).await;
    next.assert_status(201);
    assert_eq!(next.json["seq"].as_i64().unwrap(), seqs.len() as i64 + 1);
    child.kill().unwrap();
    child.wait().unwrap();
}
