//! Product images: uploads in every accepted format produce renditions of
//! the right sizes and a live `product.image_changed`; hostile uploads are
//! refused without touching the current image; collection deletes only
//! unreferenced files; private stores' images need a grant, and without one
//! answer exactly like an unknown store's.

mod common;

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage, RgbaImage};
use reqwest::Method;
use serde_json::json;

fn encode(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

fn photo(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])))
}

async fn upload(client: &common::Client, store: &str, id: i64, bytes: Vec<u8>, content_type: &str) -> common::Resp {
    let path = format!("/api/v1/stores/{store}/products/{id}/image");
    client.send(client.request(Method::PUT, &path).header("content-type", content_type).body(bytes)).await
}

/// Status of a multipart form of `size` bytes sent chunked, without a
/// Content-Length, over a raw socket.
async fn chunked_multipart_status(app: &common::TestApp, client: &common::Client, id: i64, size: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let token = client.token.clone().unwrap();
    let head = format!(
        "PUT /api/v1/stores/s1/products/{id}/image HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let mut socket = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    socket.write_all(head.as_bytes()).await.unwrap();
    // A field that is not a file: it used to be skipped unread and unbounded.
    let part = "--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n";
    let mut body = part.as_bytes().to_vec();
    body.resize(size, 0x89);
    for chunk in body.chunks(64 * 1024) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        if socket.write_all(&framed).await.is_err() {
            break; // The server answered and closed early.
        }
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer[..12.min(answer.len())])[9..].trim().parse().unwrap()
}

async fn fetch(client: &common::Client, path: &str) -> (u16, Vec<u8>, reqwest::header::HeaderMap) {
    let r = client.request(Method::GET, path).send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, r.bytes().await.unwrap().to_vec(), headers)
}

#[actix_web::test]
async fn png_jpeg_and_webp_uploads_make_renditions_and_a_live_event() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let mut ws = app.ws(&editor).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["products"]})).await;
    let id = editor.first_product("s1").await["id"].as_i64().unwrap();
    let alpha = DynamicImage::ImageRgba8(RgbaImage::from_pixel(300, 600, image::Rgba([10, 20, 30, 128])));
    for (bytes, ctype) in [
        (encode(photo(1200, 800), ImageFormat::Png), "image/png"),
        (encode(photo(900, 900), ImageFormat::Jpeg), "image/jpeg"),
        (encode(alpha, ImageFormat::WebP), "image/webp"),
    ] {
        let r = upload(&editor, "s1", id, bytes, ctype).await;
        r.assert_status(200);
        let hash = r.json["product"]["image"].as_str().unwrap().to_owned();
        let event = ws.next_of("batch").await["events"][0].clone();
        assert_eq!(
            (event["kind"].as_str(), event["data"]["image"].as_str()),
            (Some("product.image_changed"), Some(hash.as_str()))
        );
        for (size, bound) in [("card", 400), ("thumb", 64)] {
            let (status, body, headers) = fetch(&editor, &format!("/media/s1/{hash}/{size}")).await;
            assert_eq!(status, 200);
            assert!(headers["cache-control"].to_str().unwrap().contains("immutable"));
            assert_eq!(headers["etag"].to_str().unwrap(), format!("\"{hash}-{size}\""));
            let img = image::load_from_memory(&body).unwrap();
            assert!(img.width().max(img.height()) == bound, "{size}: {}x{}", img.width(), img.height());
        }
        let (status, ..) = fetch(&editor, &format!("/media/s1/{hash}/original")).await;
        assert_eq!(status, 200);
    }
    // Multipart uploads work too.
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(encode(photo(50, 50), ImageFormat::Png)).file_name("x.png"));
    let r = editor
        .send(editor.request(Method::PUT, &format!("/api/v1/stores/s1/products/{id}/image")).multipart(form))
        .await;
    r.assert_status(200);
    // A cached image revalidates with its ETag.
    let hash = r.json["product"]["image"].as_str().unwrap();
    let req = editor
        .request(Method::GET, &format!("/media/s1/{hash}/thumb"))
        .header("if-none-match", format!("\"{hash}-thumb\""));
    assert_eq!(req.send().await.unwrap().status(), 304);
}

#[actix_web::test]
async fn hostile_uploads_are_refused_and_leave_the_image_untouched() {
    let app = common::spawn_app_with(|c| c.max_image_bytes = 1024 * 1024).await;
    let editor = app.login("editor").await;
    let id = editor.first_product("s1").await["id"].as_i64().unwrap();
    let good = upload(&editor, "s1", id, encode(photo(100, 100), ImageFormat::Png), "image/png").await;
    let current = good.json["product"]["image"].clone();

    let text = upload(&editor, "s1", id, b"definitely not a png, despite the name".to_vec(), "image/png").await;
    text.assert_error(415, "unsupported_media_type");
    let png = encode(photo(400, 400), ImageFormat::Png);
    let truncated = upload(&editor, "s1", id, png[..png.len() / 2].to_vec(), "image/png").await;
    truncated.assert_error(422, "invalid_field");
    let oversized = upload(&editor, "s1", id, vec![0x89; 2 * 1024 * 1024], "image/png").await;
    oversized.assert_error(413, "payload_too_large");
    assert_eq!(chunked_multipart_status(&app, &editor, id, 2 * 1024 * 1024).await, 413);
    // A tiny file that declares 20000 pixels per side.
    let huge = encode(DynamicImage::ImageLuma8(image::GrayImage::new(20_000, 1)), ImageFormat::Png);
    assert!(huge.len() < 100_000);
    upload(&editor, "s1", id, huge, "image/png").await.assert_error(422, "limit_exceeded");

    let product = editor.get(&format!("/api/v1/stores/s1/products/{id}")).await;
    assert_eq!(product.json["image"], current, "the current image is untouched");
}

#[actix_web::test]
async fn uploads_beyond_the_decoding_gate_get_503_and_change_nothing() {
    let app = common::spawn_app_with(|c| c.image_concurrency = Some(1)).await;
    let editor = app.login("editor").await;
    let id = editor.first_product("s1").await["id"].as_i64().unwrap();
    let png = encode(photo(1500, 1500), ImageFormat::Png);
    let burst =
        |n: usize| futures_util::future::join_all((0..n).map(|_| upload(&editor, "s1", id, png.clone(), "image/png")));
    // While the only place is taken (as by a large image being decoded),
    // uploads are turned away after a short wait, not decoded side by side.
    let held = app.state.image_gate.enter().await.unwrap();
    for r in burst(4).await {
        r.assert_error(503, "unavailable");
        assert_eq!(r.header("retry-after"), Some("1"));
    }
    let product = editor.get(&format!("/api/v1/stores/s1/products/{id}")).await;
    assert!(product.json["image"].is_null(), "a refused upload changes nothing");
    drop(held);
    // Concurrent uploads through the one place: each is stored or turned away.
    for r in burst(4).await {
        assert!(matches!(r.status.as_u16(), 200 | 503), "{} {}", r.status, r.text);
    }
    upload(&editor, "s1", id, png.clone(), "image/png").await.assert_status(200);
}

/// Sends `request` back to back, far faster than a budget of one write a
/// second refills, until one is refused for the budget (answers the
/// statuses); every other answer must be `undecodable`.
async fn statuses_until_rate_limited(
    client: &common::Client,
    request: impl Fn() -> reqwest::RequestBuilder,
    undecodable: u16,
) -> Vec<u16> {
    let mut statuses = Vec::new();
    while !statuses.contains(&429) && statuses.len() < 50 {
        let r = client.send(request()).await;
        assert!([undecodable, 429].contains(&r.status.as_u16()), "{} {}", r.status, r.text);
        statuses.push(r.status.as_u16());
    }
    statuses
}

#[actix_web::test]
async fn uploads_and_imports_over_the_write_budget_are_refused_before_they_are_read() {
    let app = common::spawn_app_with(|c| c.writes_per_sec = 1).await;
    let editor = app.login("editor").await;
    let id = editor.first_product("s1").await["id"].as_i64().unwrap();
    // Bodies that cannot be decoded: until the budget (bursts of two) is
    // spent they are refused for what they are; after, for the budget,
    // before anybody looked at them.
    let image = || {
        let path = format!("/api/v1/stores/s1/products/{id}/image");
        editor.request(Method::PUT, &path).header("content-type", "image/png").body("not an image")
    };
    let statuses = statuses_until_rate_limited(&editor, image, 415).await;
    assert!(statuses.contains(&429), "image: never refused for the budget: {statuses:?}");
    let import = || {
        let path = "/api/v1/stores/s1/products/import";
        editor.request(Method::POST, path).header("content-type", "text/csv").body("not,a\nheader")
    };
    let statuses = statuses_until_rate_limited(&editor, import, 422).await;
    assert!(statuses.contains(&429), "import: never refused for the budget: {statuses:?}");
}

#[actix_web::test]
async fn replaced_and_deleted_images_are_collected_unless_still_referenced() {
    let app = common::spawn_app_with(|c| c.media_gc_grace_secs = 0).await;
    let admin = app.login("admin").await;
    let rows = admin.get("/api/v1/stores/s1/products?page_size=3").await.json["rows"].clone();
    let ids: Vec<i64> = rows.as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
    let shared = encode(photo(120, 80), ImageFormat::Png);
    let a = upload(&admin, "s1", ids[0], shared.clone(), "image/png").await.json["product"]["image"]
        .as_str()
        .unwrap()
        .to_owned();
    upload(&admin, "s1", ids[1], shared, "image/png").await.assert_status(200);
    let b = upload(&admin, "s1", ids[0], encode(photo(90, 90), ImageFormat::Png), "image/png").await.json["product"]
        ["image"]
        .as_str()
        .unwrap()
        .to_owned();
    admin.delete(&format!("/api/v1/stores/s1/products/{}/image", ids[0])).await.assert_status(200);
    let media = app.dir.path().join("media");
    assert!(media.join(&a).exists() && media.join(&b).exists());

    let r = admin.post("/api/v1/admin/media/gc", json!({})).await;
    r.assert_status(200);
    assert_eq!(r.json["removed"], 1);
    assert!(!media.join(&b).exists(), "the replaced, then deleted image is gone");
    assert!(media.join(&a).exists(), "the image another product uses stays");
    let (status, ..) = fetch(&admin, &format!("/media/s1/{a}/thumb")).await;
    assert_eq!(status, 200);
    app.login("editor").await.post("/api/v1/admin/media/gc", json!({})).await.assert_error(403, "forbidden");
}

#[actix_web::test]
async fn media_answers_for_private_and_unknown_stores_are_identical_without_a_grant() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let id = admin.first_product("s3").await["id"].as_i64().unwrap();
    let r = upload(&admin, "s3", id, encode(photo(64, 64), ImageFormat::Png), "image/png").await;
    let hash = r.json["product"]["image"].as_str().unwrap().to_owned();
    let (anonymous, ungranted) = (app.anonymous(), app.login("editor").await);
    let mut expired = app.anonymous();
    expired.token = Some("0".repeat(64));
    for who in [&anonymous, &ungranted, &expired] {
        for (size, fake) in [("thumb", hash.clone()), ("card", "ab".repeat(32))] {
            // s3 is private and exists, s9 does not exist.
            let private = fetch(who, &format!("/media/s3/{fake}/{size}")).await;
            let unknown = fetch(who, &format!("/media/s9/{fake}/{size}")).await;
            assert_eq!(private.0, 404);
            assert_eq!((private.0, &private.1), (unknown.0, &unknown.1), "{}", String::from_utf8_lossy(&unknown.1));
            assert_eq!(private.2.get("content-type"), unknown.2.get("content-type"));
            assert!(!String::from_utf8_lossy(&private.1).contains("s3"));
        }
    }
    assert_eq!(fetch(&admin, &format!("/media/s3/{hash}/thumb")).await.0, 200, "a grant opens it");
}

#[actix_web::test]
async fn private_store_images_need_a_grant() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let private_id = admin.first_product("s2").await["id"].as_i64().unwrap();
    let r = upload(&admin, "s2", private_id, encode(photo(64, 64), ImageFormat::Jpeg), "image/jpeg").await;
    let hash = r.json["product"]["image"].as_str().unwrap().to_owned();
    let path = format!("/media/s2/{hash}/thumb");
    assert_eq!(fetch(&app.anonymous(), &path).await.0, 404, "like an unknown store");
    assert_eq!(fetch(&app.login("editor").await, &path).await.0, 404, "an editor of s1 only");
    assert_eq!(fetch(&app.login("viewer").await, &path).await.0, 200, "a viewer of s2");
    let (_, _, headers) = fetch(&admin, &path).await;
    assert!(headers["cache-control"].to_str().unwrap().starts_with("private"));
    // The hash does not open the image through the public store's URL either.
    assert_eq!(fetch(&app.anonymous(), &format!("/media/s1/{hash}/thumb")).await.0, 404);
    // A public store's image needs no login.
    let public_id = admin.first_product("s1").await["id"].as_i64().unwrap();
    let r = upload(&admin, "s1", public_id, encode(photo(64, 64), ImageFormat::Png), "image/png").await;
    let public_hash = r.json["product"]["image"].as_str().unwrap();
    assert_eq!(fetch(&app.anonymous(), &format!("/media/s1/{public_hash}/card")).await.0, 200);
}
