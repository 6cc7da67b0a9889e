//! Request bodies must arrive within `--body-timeout-secs`: a client that
//! trickles a body (JSON, raw, multipart; with a length or chunked) gets
//! `408 request_timeout` and its connection is closed, and a trickled body
//! the handler never reads does not keep its connection open either.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How a trickled body is framed.
#[derive(Clone, Copy)]
enum Framing {
    Length,
    Chunked,
}

/// Sends `head` (without the body framing headers), then the body one byte
/// every 250 ms until the server answers; returns everything the server
/// sent until it closed the connection. Panics if the connection is still
/// open after `common::FRAME_TIMEOUT`.
async fn trickle(app: &common::TestApp, head: &str, framing: Framing) -> String {
    let socket = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    let (mut read, mut write) = socket.into_split();
    let framing_header = match framing {
        Framing::Length => "Content-Length: 1000\r\n",
        Framing::Chunked => "Transfer-Encoding: chunked\r\n",
    };
    write.write_all(format!("{head}{framing_header}\r\n").as_bytes()).await.unwrap();
    let answered = Arc::new(AtomicBool::new(false));
    let stop = answered.clone();
    let writer = tokio::spawn(async move {
        for byte in b"{\"username\": \"admin\", \"password\": \"".iter().cycle() {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let sent = match framing {
                Framing::Length => write.write_all(&[*byte]).await,
                Framing::Chunked => write.write_all(&[b'1', b'\r', b'\n', *byte, b'\r', b'\n']).await,
            };
            if sent.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        write
    });
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(common::FRAME_TIMEOUT, async {
        let mut buf = [0u8; 4096];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    answered.store(true, Ordering::Relaxed);
                }
            }
        }
    })
    .await;
    writer.abort();
    let text = String::from_utf8_lossy(&answer).into_owned();
    assert!(closed.is_ok(), "the connection stayed open; the server sent: {text:?}");
    text
}

#[actix_web::test]
async fn trickled_bodies_get_408_and_their_connections_close() {
    let app = common::spawn_app_with(|c| c.body_timeout_secs = 1).await;
    let editor = app.login("editor").await;
    let token = editor.token.clone().unwrap();
    let product = editor.first_product("s1").await["id"].as_i64().unwrap();
    let login = "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n".to_owned();
    let import = format!(
        "POST /api/v1/stores/s1/products/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: text/csv\r\n"
    );
    let image = format!(
        "PUT /api/v1/stores/s1/products/{product}/image HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=b\r\n"
    );
    let mut cases = Vec::new();
    // Twenty slow logins at once, as in the audit, and one of each other kind.
    for _ in 0..20 {
        cases.push((login.clone(), Framing::Length));
    }
    cases.extend([(login.clone(), Framing::Chunked), (import, Framing::Chunked), (image.clone(), Framing::Length)]);
    cases.push((image, Framing::Chunked));
    let answers =
        futures_util::future::join_all(cases.iter().map(|(head, framing)| trickle(&app, head, *framing))).await;
    for ((head, _), answer) in cases.iter().zip(&answers) {
        let first_line = head.lines().next().unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{first_line}: {answer:?}");
        assert!(answer.contains("\"code\":\"request_timeout\""), "{first_line}: {answer:?}");
    }
    // The server still serves.
    app.anonymous().get("/healthz").await.assert_status(200);
}

#[actix_web::test]
async fn a_trickled_body_the_handler_never_reads_does_not_hold_the_connection() {
    let app = common::spawn_app_with(|c| c.body_timeout_secs = 1).await;
    // Refused before the body matters: no credentials.
    let logout = "POST /api/v1/auth/logout HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
    for framing in [Framing::Chunked, Framing::Length] {
        let answer = trickle(&app, logout, framing).await;
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer:?}");
    }
    // An unknown route, which reads nothing either.
    let answer = trickle(&app, "POST /api/v1/nothing HTTP/1.1\r\nHost: x\r\n", Framing::Chunked).await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer:?}");
}
