//! Product images: validation, re-encoding, thumbnails, content-addressed
//! storage, garbage collection.
//!
//! The server trusts nothing about an upload: the size limit is checked
//! before the body is read whole, the format is recognised by its bytes
//! (PNG, JPEG, WebP), the header's dimensions are checked before decoding and
//! the decoder runs with memory limits (a decompression bomb is refused
//! cheaply), and every stored file is re-encoded (which drops metadata).
//! Files live in `<data dir>/media/<hash>/{original,card,thumb}.{jpg,png}`,
//! named by the SHA-256 of the re-encoded original, so replacing an image
//! changes its URL. All of it runs on the blocking pool.
//!
//! Decoding is the expensive part: a 471 KB PNG of 6300×6300 pixels takes
//! some 230 MB while it is processed. So `process` runs only with a place
//! at the image `Gate` (`--image-concurrency`, one per core by default);
//! an upload that finds none within `PROCESS_WAIT` is answered 503
//! `unavailable` with `Retry-After` (`http/images.rs`). Guarded by
//! `tests/images.rs` (`uploads_beyond_the_decoding_gate_get_503_and_change_nothing`).

pub mod gc;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

use crate::counted::{CountedKey, CountedKeys};
use crate::error::ApiError;

/// How long an upload waits for a place to be decoded before it is
/// answered 503.
pub const PROCESS_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Widest or tallest image accepted.
pub const MAX_SIDE: u32 = 8000;
/// Most pixels accepted (40 megapixels).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Bounding box of the card size.
pub const CARD: u32 = 400;
/// Bounding box of the table thumbnail.
pub const THUMB: u32 = 64;
/// Sizes served under `/media/{store}/{hash}/{size}`.
pub const SIZES: [&str; 3] = ["original", "card", "thumb"];

/// One stored rendition.
pub struct Rendition {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// A processed upload, ready to store.
pub struct Processed {
    pub hash: String,
    pub renditions: Vec<Rendition>,
}

fn encode(img: &DynamicImage, name: &'static str) -> Result<Rendition, ApiError> {
    let mut bytes = Vec::new();
    let (format, content_type) =
        if img.color().has_alpha() { (ImageFormat::Png, "image/png") } else { (ImageFormat::Jpeg, "image/jpeg") };
    let img = if format == ImageFormat::Jpeg { DynamicImage::ImageRgb8(img.to_rgb8()) } else { img.clone() };
    img.write_to(&mut Cursor::new(&mut bytes), format)
        .map_err(|e| ApiError::Internal(format!("encoding {name}: {e}")))?;
    Ok(Rendition { name, bytes, content_type, width: img.width(), height: img.height() })
}

/// Validates, decodes and re-encodes an upload into its renditions.
/// Blocking and memory-hungry: call it on the blocking pool, holding a
/// place at the image gate.
pub fn process(bytes: &[u8]) -> Result<Processed, ApiError> {
    let format = image::guess_format(bytes).ok();
    if !matches!(format, Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP)) {
        return Err(ApiError::UnsupportedMediaType { expected: "a PNG, JPEG or WebP image" });
    }
    let invalid = |e: image::ImageError| ApiError::invalid("image", format!("the image cannot be decoded: {e}"));
    let reader =
        || ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| ApiError::BadRequest(e.to_string()));
    let (width, height) = reader()?.into_dimensions().map_err(invalid)?;
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ApiError::Limit(format!("{width}x{height} exceeds {MAX_SIDE} per side or {MAX_PIXELS} pixels")));
    }
    let mut decoder = reader()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4 + (64 << 20));
    decoder.limits(limits);
    let img = decoder.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => ApiError::Limit(format!("the image exceeds the decoding limits: {e}")),
        other => invalid(other),
    })?;
    let original = encode(&img, "original")?;
    let card = encode(&img.thumbnail(CARD, CARD), "card")?;
    let thumb = encode(&img.thumbnail(THUMB, THUMB), "thumb")?;
    let hash = hex::encode(&Sha256::digest(&original.bytes)[..16]);
    Ok(Processed { hash, renditions: vec![original, card, thumb] })
}

/// Where media files live, and which hashes uploads in progress hold.
#[derive(Clone)]
pub struct MediaStore {
    root: PathBuf,
    /// Hashes written but not yet committed: garbage collection skips them.
    pinned: CountedKeys,
}

/// Whether `s` is a hash this module produced (and so a safe path part).
pub fn is_hash(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl MediaStore {
    /// Media under `<data_dir>/media`.
    pub fn new(data_dir: &Path) -> Self {
        Self { root: data_dir.join("media"), pinned: CountedKeys::default() }
    }

    /// The directory of a hash.
    pub fn dir(&self, hash: &str) -> PathBuf {
        self.root.join(hash)
    }

    /// Pins `hash` against collection.
    pub fn pin(&self, hash: &str) -> CountedKey {
        self.pinned.acquire(hash)
    }

    /// Deletes `hash` unless an upload holds it or `referenced` says a
    /// product uses it. The pin lock is held throughout, so an upload either
    /// committed before (and is referenced) or pins after (and rewrites).
    pub fn remove_unless(
        &self,
        hash: &str,
        referenced: impl FnOnce() -> Result<bool, ApiError>,
    ) -> Result<bool, ApiError> {
        let unpinned = self.pinned.unless_held(hash, || -> Result<bool, ApiError> {
            if referenced()? {
                return Ok(false);
            }
            Ok(std::fs::remove_dir_all(self.dir(hash)).is_ok())
        });
        unpinned.unwrap_or(Ok(false))
    }

    /// Writes the renditions (atomically, each via a temporary file); an
    /// existing identical image is reused.
    pub fn store(&self, processed: &Processed) -> Result<(), ApiError> {
        let io = |e: std::io::Error| ApiError::Internal(format!("media: {e}"));
        let dir = self.dir(&processed.hash);
        std::fs::create_dir_all(&dir).map_err(io)?;
        for r in &processed.renditions {
            let ext = if r.content_type == "image/png" { "png" } else { "jpg" };
            let path = dir.join(format!("{}.{ext}", r.name));
            if path.exists() {
                continue;
            }
            let tmp = dir.join(format!(".{}.{ext}.tmp", r.name));
            std::fs::write(&tmp, &r.bytes).map_err(io)?;
            std::fs::rename(&tmp, &path).map_err(io)?;
        }
        Ok(())
    }

    /// A rendition's bytes and content type.
    pub fn read(&self, hash: &str, size: &str) -> Option<(Vec<u8>, &'static str)> {
        if !is_hash(hash) || !SIZES.contains(&size) {
            return None;
        }
        [("jpg", "image/jpeg"), ("png", "image/png")]
            .into_iter()
            .find_map(|(ext, ct)| std::fs::read(self.dir(hash).join(format!("{size}.{ext}"))).ok().map(|b| (b, ct)))
    }

    /// Every stored hash.
    pub fn hashes(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.root) else { return vec![] };
        entries.filter_map(Result::ok).filter_map(|e| e.file_name().into_string().ok()).filter(|n| is_hash(n)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::new_rgb8(w, h);
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn renditions_fit_their_boxes_and_are_content_addressed() {
        let p = process(&png(1000, 500)).unwrap();
        let dims: Vec<(u32, u32)> = p.renditions.iter().map(|r| (r.width, r.height)).collect();
        assert_eq!(dims, [(1000, 500), (400, 200), (64, 32)]);
        assert!(is_hash(&p.hash));
        assert_eq!(process(&png(1000, 500)).unwrap().hash, p.hash);
    }

    #[test]
    fn refusals_have_their_codes() {
        assert_eq!(process(b"hello, I am text").err().unwrap().code(), "unsupported_media_type");
        let truncated = &png(100, 100)[..60];
        assert_eq!(process(truncated).err().unwrap().code(), "invalid_field");
        assert_eq!(process(&png(9000, 1)).err().unwrap().code(), "limit_exceeded");
    }
}
