//! Upload processing: validating, decoding, re-encoding and thumbnailing a
//! 2000×2000 JPEG (what `PUT /products/{id}/image` does on the blocking pool).
//!
//! `cargo bench --bench images`

use std::io::Cursor;

use criterion::{criterion_group, criterion_main, Criterion};
use image::{ImageFormat, Rgb, RgbImage};

fn photo() -> Vec<u8> {
    // A gradient with noise-like detail, so the JPEG is photo-sized.
    let img = RgbImage::from_fn(2000, 2000, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 251) as u8]));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg).unwrap();
    out
}

fn bench(c: &mut Criterion) {
    let jpeg = photo();
    let mut group = c.benchmark_group("image_upload");
    group.sample_size(10);
    group.bench_function("process_2000x2000_jpeg", |b| b.iter(|| storesync::media::process(&jpeg).unwrap()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
