//! Garbage collection of media: a stored image whose hash no product
//! references, that no upload in progress holds (`Pin`), and that is older
//! than the grace period (uploads on other nodes), is deleted. A referenced
//! image is never deleted: the reference check and the delete happen under
//! the pin lock (`MediaStore::remove_unless`). Guarded by `tests/images.rs`.

use std::time::{Duration, SystemTime};

use super::MediaStore;
use crate::db::DbPool;
use crate::error::ApiError;

/// Deletes unreferenced images older than `grace`; returns how many.
pub async fn collect(pool: &DbPool, media: &MediaStore, grace: Duration) -> Result<usize, ApiError> {
    let media = media.clone();
    let removed = crate::db::blocking(pool, move |conn| {
        let mut removed = 0;
        for hash in media.hashes() {
            let modified = std::fs::metadata(media.dir(&hash)).and_then(|m| m.modified()).unwrap_or(SystemTime::now());
            if modified.elapsed().unwrap_or_default() < grace {
                continue;
            }
            let referenced = || Ok(crate::db::queries::products::image_referenced(conn, &hash)?);
            if media.remove_unless(&hash, referenced)? {
                removed += 1;
            }
        }
        Ok(removed)
    })
    .await?;
    if removed > 0 {
        log::info!(removed; "media collected");
    }
    Ok(removed)
}
