//! Token images as served: the stored (sanitised) image, or a copy resized to one of the fixed
//! widths and encoded as PNG or WebP. Decoding is bounded (dimensions and memory, against
//! decompression bombs) and runs on the blocking pool; rendered copies are kept in a bounded
//! in-process cache keyed by content hash, width and format, so they never go stale.

use crate::error::ApiError;
use axum::body::Bytes;
use image::{ImageFormat, ImageReader, imageops::FilterType};
use moka::future::Cache;
use nest_store::Store;
use std::{io::Cursor, sync::Arc};

/// Largest width or height of an image that is decoded.
const MAX_DIMENSION: u32 = 8_192;
/// Most memory one decode may allocate.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
/// Bytes of rendered images kept in memory.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// An output encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// PNG.
    Png,
    /// WebP (lossless).
    WebP,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::WebP => "webp",
        }
    }
}

/// A rendered image.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The bytes.
    pub bytes: Bytes,
    /// Its media type.
    pub content_type: &'static str,
    /// A strong validator: the content hash, width and format.
    pub tag: String,
}

/// Renders and caches media.
#[derive(Clone)]
pub struct MediaRenderer {
    cache: Cache<String, Arc<Rendered>>,
}

impl std::fmt::Debug for MediaRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaRenderer")
            .field("entries", &self.cache.entry_count())
            .finish()
    }
}

impl Default for MediaRenderer {
    fn default() -> Self {
        Self {
            cache: Cache::builder()
                .weigher(|_: &String, r: &Arc<Rendered>| {
                    u32::try_from(r.bytes.len()).unwrap_or(u32::MAX)
                })
                .max_capacity(CACHE_BYTES)
                .build(),
        }
    }
}

fn content_type_of(stored: &str) -> &'static str {
    match stored {
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        "image/gif" => "image/gif",
        "image/webp" => "image/webp",
        _ => "image/svg+xml",
    }
}

impl MediaRenderer {
    /// The media `id` at width `width` (as stored when `None`, or for SVG) in `format`.
    pub async fn render(
        &self,
        store: &Store,
        id: &str,
        width: Option<u32>,
        format: Format,
    ) -> Result<Rendered, ApiError> {
        let key = match width {
            Some(w) => format!("{id}-{w}-{}", format.name()),
            None => id.to_string(),
        };
        let store = store.clone();
        let id = id.to_string();
        let rendered = self
            .cache
            .try_get_with(key.clone(), async move {
                let media = store
                    .metadata()
                    .media(&id)
                    .await?
                    .ok_or_else(|| ApiError::not_found("media", &id))?;
                let content_type = content_type_of(&media.content_type);
                let Some(width) = width.filter(|_| content_type != "image/svg+xml") else {
                    return Ok::<_, ApiError>(Arc::new(Rendered {
                        bytes: Bytes::from(media.bytes),
                        content_type,
                        tag: id,
                    }));
                };
                let bytes =
                    tokio::task::spawn_blocking(move || resize(&media.bytes, width, format))
                        .await
                        .map_err(ApiError::internal)??;
                Ok(Arc::new(Rendered {
                    bytes: Bytes::from(bytes),
                    content_type: match format {
                        Format::Png => "image/png",
                        Format::WebP => "image/webp",
                    },
                    tag: key,
                }))
            })
            .await
            .map_err(|e: Arc<ApiError>| (*e).clone())?;
        Ok((*rendered).clone())
    }
}

/// Decodes (bounded), resizes to `width` keeping the aspect ratio, and encodes.
fn resize(bytes: &[u8], width: u32, format: Format) -> Result<Vec<u8>, ApiError> {
    let unprocessable = |e: image::ImageError| {
        ApiError::new(axum::http::StatusCode::NOT_FOUND, "media.unreadable").because(e)
    };
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(ApiError::internal)?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let image = reader.decode().map_err(unprocessable)?;
    let height = ((u64::from(image.height()) * u64::from(width)) / u64::from(image.width().max(1)))
        .clamp(1, u64::from(MAX_DIMENSION)) as u32;
    // Pixel art stays crisp when enlarged; photographs shrink smoothly.
    let filter = if width > image.width() {
        FilterType::Nearest
    } else {
        FilterType::Lanczos3
    };
    let resized = image.resize_exact(width, height, filter);
    let mut out = Cursor::new(Vec::new());
    let encoded = match format {
        Format::Png => resized.write_to(&mut out, ImageFormat::Png),
        // The WebP encoder takes 8-bit RGB(A).
        Format::WebP => image::DynamicImage::ImageRgba8(resized.to_rgba8())
            .write_to(&mut out, ImageFormat::WebP),
    };
    encoded.map_err(ApiError::internal)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbaImage::from_fn(width, height, |x, y| {
            image::Rgba([(x % 256) as u8, (y % 256) as u8, 128, 255])
        });
        let mut out = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgba8(image)
            .write_to(&mut out, ImageFormat::Png)
            .expect("encode");
        out.into_inner()
    }

    #[test]
    fn images_are_resized_to_the_width_keeping_the_ratio() {
        let source = png(200, 100);
        for (format, magic) in [(Format::Png, &b"\x89PNG"[..]), (Format::WebP, &b"RIFF"[..])] {
            let out = resize(&source, 96, format).expect("resized");
            assert!(out.starts_with(magic));
            let decoded = image::load_from_memory(&out).expect("decodes");
            assert_eq!((decoded.width(), decoded.height()), (96, 48));
        }
    }

    #[test]
    fn a_decompression_bomb_is_refused() {
        // A valid PNG header claiming 100,000 x 100,000 pixels.
        let mut bomb = png(1, 1);
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(resize(&bomb, 96, Format::Png).is_err());
    }
}
