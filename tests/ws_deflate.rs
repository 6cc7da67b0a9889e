//! WebSocket compression (permessage-deflate, RFC 7692) against the real
//! server over real sockets. The client here works at the byte level
//! (tokio-tungstenite 0.24 cannot negotiate the extension) and does its
//! DEFLATE with flate2's streaming encoder and decoder, not the server's code.

mod common;

use std::io::{Read, Write};

use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ANSWER: &str = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

/// Opens `/ws` at `base` with `offer` as `Sec-WebSocket-Extensions`;
/// answers the socket and the answer's extensions header, if any.
async fn connect(base: &str, token: &str, offer: Option<&str>) -> (TcpStream, Option<String>) {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let offer = offer.map(|o| format!("Sec-WebSocket-Extensions: {o}\r\n")).unwrap_or_default();
    let head = format!(
        "GET /ws?token={token} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // Byte by byte, so that no frame after the answer's head is consumed.
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\n") {
        answer.push(stream.read_u8().await.unwrap());
    }
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    let extensions = answer.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-extensions").then(|| value.trim().to_owned())
    });
    (stream, extensions)
}

/// A server frame: its first byte and payload.
async fn read_frame(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let read = async {
        let mut head = [0u8; 2];
        stream.read_exact(&mut head).await.ok()?;
        assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
        let len = match head[1] & 0x7F {
            126 => u64::from(stream.read_u16().await.ok()?),
            127 => stream.read_u64().await.ok()?,
            short => u64::from(short),
        };
        let mut payload = vec![0; len as usize];
        stream.read_exact(&mut payload).await.ok()?;
        Some((head[0], payload))
    };
    tokio::time::timeout(common::FRAME_TIMEOUT, read).await.expect("no frame arrived")
}

/// A text frame as it arrived.
struct Received {
    compressed: bool,
    /// Payload bytes on the wire.
    wire: usize,
    json: Value,
}

/// Skips frames until a text frame of type `kind`; inflates it if RSV1 is set.
async fn next_of(stream: &mut TcpStream, kind: &str) -> Received {
    loop {
        let (first, payload) = read_frame(stream).await.expect("the socket closed");
        assert_eq!(first & 0x80, 0x80, "the server does not fragment");
        if first & 0x0F != 1 {
            continue;
        }
        let compressed = first & 0x40 != 0;
        let wire = payload.len();
        let text = if compressed { inflate(&payload) } else { payload };
        let json: Value = serde_json::from_slice(&text).unwrap();
        if json["type"] == kind {
            return Received { compressed, wire, json };
        }
    }
}

/// The close code the server sends, skipping other frames.
async fn close_code(stream: &mut TcpStream) -> Option<u16> {
    while let Some((first, payload)) = read_frame(stream).await {
        if first & 0x0F == 8 {
            return payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
        }
    }
    None
}

/// A masked client frame with first byte `first` (FIN, RSV1, opcode).
fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    storesync::load::socket::masked_frame(first, payload, [9, 8, 7, 6])
}

/// `text` compressed the way RFC 7692 §7.2.1 says: a sync flush, its last
/// four bytes removed.
fn deflate_sync(text: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(text).unwrap();
    encoder.flush().unwrap();
    let mut out = encoder.get_ref().clone();
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    out
}

/// `text` compressed into a final block, as some clients send it.
fn deflate_final(text: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

fn inflate(payload: &[u8]) -> Vec<u8> {
    let mut input = payload.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut out = Vec::new();
    // The stream has no end block: read what inflates, up to the input's end.
    let _ = DeflateDecoder::new(&input[..]).read_to_end(&mut out);
    out
}

async fn send(stream: &mut TcpStream, frame: &[u8]) {
    stream.write_all(frame).await.unwrap();
}

async fn send_text(stream: &mut TcpStream, frame: Value) {
    send(stream, &client_frame(0x81, frame.to_string().as_bytes())).await;
}

#[actix_web::test]
async fn an_offer_is_answered_and_snapshots_and_fanned_out_frames_arrive_compressed() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let token = admin.token.as_deref().unwrap();
    // As browsers offer it.
    let (mut zipped, answer) = connect(&app.base, token, Some("permessage-deflate; client_max_window_bits")).await;
    assert_eq!(answer.as_deref(), Some(ANSWER));
    let (mut plain, answer) = connect(&app.base, token, None).await;
    assert_eq!(answer, None);
    let subscribe = json!({"type": "subscribe", "id": 1, "store": "s1", "view": {"page_size": 25}});
    for socket in [&mut zipped, &mut plain] {
        next_of(socket, "hello").await;
        send_text(socket, subscribe.clone()).await;
    }
    let z = next_of(&mut zipped, "snapshot").await;
    let p = next_of(&mut plain, "snapshot").await;
    assert!(z.compressed && !p.compressed);
    assert_eq!(z.json, p.json);
    assert_eq!(p.json["page"]["rows"].as_array().unwrap().len(), 25);
    assert!(z.wire * 4 <= p.wire, "snapshot: {} bytes compressed, {} plain", z.wire, p.wire);
    // Small frames go out as they are.
    send_text(&mut zipped, json!({"type": "ping", "id": 2})).await;
    assert!(!next_of(&mut zipped, "pong").await.compressed);
    // A new product changes the page's total: both get the fan-out's one
    // shared `page` frame, compressed for one of them only.
    admin.create_product("s1", "DEFLATE-1", 1200).await;
    let z = next_of(&mut zipped, "page").await;
    let p = next_of(&mut plain, "page").await;
    assert!(z.compressed && !p.compressed);
    assert_eq!(z.json, p.json);
    assert!(z.wire * 4 <= p.wire, "25-row page: {} bytes compressed, {} plain", z.wire, p.wire);
}

#[actix_web::test]
async fn compressed_client_frames_are_understood_whole_or_fragmented() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let (mut socket, answer) =
        connect(&app.base, admin.token.as_deref().unwrap(), Some("permessage-deflate; client_no_context_takeover"))
            .await;
    assert_eq!(answer.as_deref(), Some(ANSWER));
    next_of(&mut socket, "hello").await;
    let ping = json!({"type": "ping", "id": "zipped"}).to_string();
    send(&mut socket, &client_frame(0xC1, &deflate_final(ping.as_bytes()))).await;
    assert_eq!(next_of(&mut socket, "pong").await.json["ref"], "zipped");
    // One compressed message in two frames, a ping between them.
    let subscribe = json!({"type": "subscribe", "id": "in-parts", "store": "s2", "topics": ["dashboard"]});
    let compressed = deflate_sync(subscribe.to_string().as_bytes());
    let (a, b) = compressed.split_at(compressed.len() / 2);
    let parts = [client_frame(0x41, a), client_frame(0x89, b"hi"), client_frame(0x80, b)].concat();
    send(&mut socket, &parts).await;
    let subscribed = next_of(&mut socket, "subscribed").await.json;
    assert_eq!((subscribed["ref"].as_str(), subscribed["store"].as_str()), (Some("in-parts"), Some("s2")));
    // Uncompressed frames are still fine on a compressed session.
    send_text(&mut socket, json!({"type": "ping", "id": "plain"})).await;
    assert_eq!(next_of(&mut socket, "pong").await.json["ref"], "plain");
}

/// The real binary, stopped on drop.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The most resident memory the process has had, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_compression_bomb_is_refused_with_1009_without_inflating_it() {
    let dir = tempfile::tempdir().unwrap();
    let (child, base, _) = common::start_server(dir.path(), &["--max-frame-bytes", "65536"]);
    let server = Server(child);
    // 48 MiB of spaces in 47 KiB: within the frame limit on the wire.
    let bomb = deflate_final(&vec![b' '; 48 << 20]);
    assert!(bomb.len() < 65536, "{}", bomb.len());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let admin = common::login_at(&base, "admin").await;
        let token = admin.token.as_deref().unwrap();
        let (mut socket, _) = connect(&base, token, Some("permessage-deflate")).await;
        next_of(&mut socket, "hello").await;
        send_text(&mut socket, json!({"type": "subscribe", "store": "s1"})).await;
        next_of(&mut socket, "snapshot").await;
        let before = peak_rss_kib(server.0.id());
        for _ in 0..3 {
            let (mut socket, _) = connect(&base, token, Some("permessage-deflate")).await;
            next_of(&mut socket, "hello").await;
            send(&mut socket, &client_frame(0xC1, &bomb)).await;
            assert_eq!(next_of(&mut socket, "error").await.json["code"], "limit_exceeded");
            assert_eq!(close_code(&mut socket).await, Some(1009));
        }
        // Inflated, one bomb alone would have added 48 MiB.
        let grown = peak_rss_kib(server.0.id()).saturating_sub(before);
        assert!(grown < 16 * 1024, "peak memory grew by {grown} KiB");
        // The subscriber before the bombs is still served.
        send_text(&mut socket, json!({"type": "ping", "id": "after"})).await;
        assert_eq!(next_of(&mut socket, "pong").await.json["ref"], "after");
    });
}

#[actix_web::test]
async fn compressed_frames_without_negotiation_or_out_of_place_are_protocol_errors() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let token = admin.token.as_deref().unwrap();
    let ping = deflate_sync(json!({"type": "ping"}).to_string().as_bytes());
    let cases: [(Option<&str>, Vec<u8>); 4] = [
        // RSV1 from a client that did not offer the extension.
        (None, client_frame(0xC1, &ping)),
        // A compressed control frame (RFC 7692 §6.1).
        (Some("permessage-deflate"), client_frame(0xC9, b"")),
        // RSV1 on a continuation.
        (Some("permessage-deflate"), [client_frame(0x41, &ping), client_frame(0xC0, &ping)].concat()),
        // Not DEFLATE data.
        (Some("permessage-deflate"), client_frame(0xC1, &[0xff; 8])),
    ];
    for (offer, bytes) in cases {
        let (mut socket, _) = connect(&app.base, token, offer).await;
        next_of(&mut socket, "hello").await;
        send(&mut socket, &bytes).await;
        assert_eq!(close_code(&mut socket).await, Some(1002), "{offer:?} {bytes:02x?}");
    }
}

#[actix_web::test]
async fn malformed_offers_and_compression_off_get_uncompressed_sessions() {
    let app = common::spawn_app().await;
    let off = common::spawn_app_with(|c| c.ws_compression = storesync::config::Switch::Off).await;
    let cases = [
        (&app, "permessage-deflate; client_max_window_bits=20"),
        (&app, "permessage-deflate; server_max_window_bits=7"),
        (&app, "permessage-deflate; no_such_parameter"),
        (&app, "permessage-deflate;; client_no_context_takeover=yes"),
        (&off, "permessage-deflate"),
    ];
    for (app, offer) in cases {
        let admin = app.login("admin").await;
        let (mut socket, answer) = connect(&app.base, admin.token.as_deref().unwrap(), Some(offer)).await;
        assert_eq!(answer, None, "{offer}");
        next_of(&mut socket, "hello").await;
        send_text(&mut socket, json!({"type": "subscribe", "store": "s1"})).await;
        let snapshot = next_of(&mut socket, "snapshot").await;
        assert!(!snapshot.compressed, "{offer}");
        assert_eq!(snapshot.json["store"], "s1");
    }
}

/// The figures of docs/benchmarks.md ("WebSocket compression"): frames of
/// the demo data as sent, uncompressed and compressed, and what other DEFLATE
/// levels would give. Run with
/// `cargo test --test ws_deflate -- --ignored --nocapture`.
#[actix_web::test]
#[ignore = "prints measurements"]
async fn measure_frame_sizes() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let token = admin.token.as_deref().unwrap();
    let (mut zipped, _) = connect(&app.base, token, Some("permessage-deflate")).await;
    let (mut plain, _) = connect(&app.base, token, None).await;
    let mut rows = vec![("hello", next_of(&mut zipped, "hello").await, next_of(&mut plain, "hello").await)];
    for (id, size) in [(1, 25), (2, 200)] {
        let subscribe = json!({"type": "subscribe", "id": id, "store": "s1", "view": {"page_size": size}});
        for socket in [&mut zipped, &mut plain] {
            send_text(socket, subscribe.clone()).await;
        }
        for kind in ["subscribed", "snapshot"] {
            rows.push((kind, next_of(&mut zipped, kind).await, next_of(&mut plain, kind).await));
        }
        let set_view = json!({"type": "set_view", "store": "s1", "view": {"page": 2, "page_size": size}});
        for socket in [&mut zipped, &mut plain] {
            send_text(socket, set_view.clone()).await;
        }
        rows.push(("page", next_of(&mut zipped, "page").await, next_of(&mut plain, "page").await));
    }
    // A dashboard user's subscription (the load scenario's topics).
    let (mut zipped_dashboard, _) = connect(&app.base, token, Some("permessage-deflate")).await;
    let (mut plain_dashboard, _) = connect(&app.base, token, None).await;
    let dashboard = json!({"type": "subscribe", "store": "s1", "topics": ["dashboard", "sales"]});
    for socket in [&mut zipped_dashboard, &mut plain_dashboard] {
        send_text(socket, dashboard.clone()).await;
        next_of(socket, "snapshot").await;
    }
    let product = admin.first_product("s1").await;
    admin.patch(&format!("/api/v1/stores/s1/products/{}", product["id"]), json!({"stock": 7})).await.assert_status(200);
    rows.push(("batch, 1 product.updated", next_of(&mut zipped, "batch").await, next_of(&mut plain, "batch").await));
    admin.patch("/api/v1/stores/s1/dashboard", json!({"visitors_today": 4321})).await.assert_status(200);
    rows.push(("batch, 1 dashboard.updated", next_of(&mut zipped, "batch").await, next_of(&mut plain, "batch").await));
    let to_dashboard = (next_of(&mut zipped_dashboard, "batch").await, next_of(&mut plain_dashboard, "batch").await);
    rows.push(("dashboard subscriber: the same", to_dashboard.0, to_dashboard.1));
    let sale = json!({"lines": [{"product_id": product["id"], "quantity": 1}]});
    admin.post("/api/v1/stores/s1/sales", sale).await.assert_status(201);
    rows.push(("batch, 1 sales.updated", next_of(&mut zipped, "batch").await, next_of(&mut plain, "batch").await));
    let to_dashboard = (next_of(&mut zipped_dashboard, "batch").await, next_of(&mut plain_dashboard, "batch").await);
    rows.push(("dashboard subscriber: the same", to_dashboard.0, to_dashboard.1));
    send_text(&mut zipped, json!({"type": "ping", "id": 1})).await;
    send_text(&mut plain, json!({"type": "ping", "id": 1})).await;
    rows.push(("pong", next_of(&mut zipped, "pong").await, next_of(&mut plain, "pong").await));
    println!("| frame | uncompressed | sent compressed | ratio | level 1 | level 9 |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, z, p) in rows {
        let text = p.json.to_string();
        let level = |l| {
            let mut e = DeflateEncoder::new(Vec::new(), Compression::new(l));
            e.write_all(text.as_bytes()).unwrap();
            e.flush().unwrap();
            e.get_ref().len() - 4
        };
        let view = if p.json["type"] == "page" { &p.json["view"] } else { &p.json["page"]["view"] };
        let name = match view["page_size"].as_u64() {
            Some(size) if name == "page" => format!("page, {size} rows"),
            Some(size) => format!("{name}, {size}-row page"),
            None => name.to_owned(),
        };
        let ratio = p.wire as f64 / z.wire as f64;
        println!("| {name} | {} | {} | {ratio:.1}× | {} | {} |", p.wire, z.wire, level(1), level(9));
    }
}

#[actix_web::test]
async fn the_autobahn_echo_route_exists_only_when_asked_for() {
    for (on, status) in [(false, 404), (true, 101)] {
        let app = common::spawn_app_with(|c| c.test_echo_route = on).await;
        let r = app
            .anonymous()
            .request(reqwest::Method::GET, "/ws-echo")
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("Sec-WebSocket-Version", "13")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "--test-echo-route {on}");
    }
}

#[actix_web::test]
async fn text_that_is_not_utf8_closes_with_1007_compressed_or_not() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let token = admin.token.as_deref().unwrap();
    let latin1 = b"{\"type\": \"ping\", \"id\": \"caf\xe9\"}";
    for (offer, frame) in
        [(None, client_frame(0x81, latin1)), (Some("permessage-deflate"), client_frame(0xC1, &deflate_sync(latin1)))]
    {
        let (mut socket, _) = connect(&app.base, token, offer).await;
        next_of(&mut socket, "hello").await;
        send(&mut socket, &frame).await;
        assert_eq!(close_code(&mut socket).await, Some(1007), "{offer:?}");
    }
}

#[actix_web::test]
async fn a_client_that_limits_the_server_window_gets_only_frames_that_fit_compressed() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let offer = "permessage-deflate; server_max_window_bits=10";
    let (mut socket, answer) = connect(&app.base, admin.token.as_deref().unwrap(), Some(offer)).await;
    assert_eq!(answer, Some(format!("{ANSWER}; server_max_window_bits=10")));
    // The hello (384 bytes) fits a 1 KiB window; the snapshot does not.
    assert!(next_of(&mut socket, "hello").await.compressed);
    send_text(&mut socket, json!({"type": "subscribe", "store": "s1"})).await;
    let snapshot = next_of(&mut socket, "snapshot").await;
    assert!(!snapshot.compressed && snapshot.wire > 1024);
}
