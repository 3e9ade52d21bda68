//! Files attached to a user message: images (png, jpeg, webp, gif) and PDFs,
//! read once, checked against the API's limits before anything is sent, and
//! kept in the conversation (base64) so that a regenerate or a branch resends them.

use std::path::Path;

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::text::Text;

/// OpenAI's limits: 20 MB per image, 32 MB and 100 pages per PDF, 50 MB per request.
pub const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;
pub const MAX_PDF_BYTES: u64 = 32 * 1024 * 1024;
pub const MAX_PDF_PAGES: u32 = 100;
pub const MAX_REQUEST_BYTES: u64 = 50 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: String,
    pub mime: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// The file's bytes, base64.
    pub data: Text,
}

impl Attachment {
    pub fn from_path(path: &Path) -> Result<Self, String> {
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot attach {shown}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("cannot attach {shown}: not a file"));
        }
        // Refuse before reading a huge file into memory.
        if meta.len() > MAX_PDF_BYTES.max(MAX_IMAGE_BYTES) {
            return Err(too_large(
                &shown.to_string(),
                meta.len(),
                MAX_PDF_BYTES,
                "file",
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| format!("cannot attach {shown}: {e}"))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| shown.to_string());
        Self::from_bytes(&name, &bytes)
    }

    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Self, String> {
        let mime = sniff(bytes).ok_or_else(|| {
            format!("cannot attach {name}: not a PNG, JPEG, WebP, GIF or PDF file")
        })?;
        let size = bytes.len() as u64;
        let (mut width, mut height, mut pages) = (None, None, None);
        if mime == "application/pdf" {
            if size > MAX_PDF_BYTES {
                return Err(too_large(name, size, MAX_PDF_BYTES, "PDF"));
            }
            let n = pdf_pages(bytes);
            if n > MAX_PDF_PAGES {
                return Err(format!(
                    "cannot attach {name}: {n} pages, the API accepts at most {MAX_PDF_PAGES}"
                ));
            }
            pages = Some(n);
        } else {
            if size > MAX_IMAGE_BYTES {
                return Err(too_large(name, size, MAX_IMAGE_BYTES, "image"));
            }
            let dim = imagesize::blob_size(bytes)
                .map_err(|e| format!("cannot attach {name}: unreadable image ({e})"))?;
            width = Some(dim.width as u32);
            height = Some(dim.height as u32);
        }
        Ok(Self {
            name: name.to_string(),
            mime: mime.to_string(),
            size,
            width,
            height,
            pages,
            data: base64::engine::general_purpose::STANDARD
                .encode(bytes)
                .into(),
        })
    }

    pub fn is_image(&self) -> bool {
        self.mime.starts_with("image/")
    }

    pub fn data_url(&self) -> String {
        format!("data:{};base64,{}", self.mime, self.data)
    }

    /// Input tokens it will cost, as OpenAI counts images (high detail: 85 +
    /// 170 per 512-px tile after scaling) and PDFs (each page as an image plus its text).
    pub fn estimated_tokens(&self) -> u64 {
        match (self.width, self.height, self.pages) {
            (Some(w), Some(h), _) => image_tokens(w, h),
            (_, _, Some(pages)) => pages as u64 * (image_tokens(612, 792) + 250),
            _ => 0,
        }
    }

    /// "photo.png · image/png · 182 KB · 1024×768 · ≈765 tokens"
    pub fn summary(&self) -> String {
        let mut parts = vec![self.name.clone(), self.mime.clone(), human_size(self.size)];
        if let (Some(w), Some(h)) = (self.width, self.height) {
            parts.push(format!("{w}×{h}"));
        }
        if let Some(p) = self.pages {
            parts.push(format!("{p} page{}", if p == 1 { "" } else { "s" }));
        }
        parts.push(format!("≈{} tokens", self.estimated_tokens()));
        parts.join(" · ")
    }
}

/// The total of several attachments must fit in one request.
pub fn check_total(attachments: &[Attachment]) -> Result<(), String> {
    let total: u64 = attachments.iter().map(|a| a.size).sum();
    if total > MAX_REQUEST_BYTES {
        return Err(format!(
            "attachments total {}, more than the {} a request may carry",
            human_size(total),
            human_size(MAX_REQUEST_BYTES)
        ));
    }
    Ok(())
}

fn too_large(name: &str, size: u64, max: u64, what: &str) -> String {
    format!(
        "cannot attach {name}: {} is larger than the {} the API accepts for a {what}",
        human_size(size),
        human_size(max)
    )
}

fn sniff(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some("image/webp")
    } else if b.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// Page objects (`/Type /Page`, not `/Pages`); at least one.
fn pdf_pages(bytes: &[u8]) -> u32 {
    let re = regex::bytes::Regex::new(r"/Type\s*/Page\b[^s]").expect("valid regex");
    (re.find_iter(bytes).count() as u32).max(1)
}

fn image_tokens(w: u32, h: u32) -> u64 {
    let (mut w, mut h) = (w.max(1) as f64, h.max(1) as f64);
    let fit = (2048.0 / w.max(h)).min(1.0);
    w *= fit;
    h *= fit;
    let short = (768.0 / w.min(h)).min(1.0);
    w *= short;
    h *= short;
    let tiles = (w / 512.0).ceil() * (h / 512.0).ceil();
    85 + 170 * tiles as u64
}

pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{} KB", b.div_ceil(1024)),
        b => format!("{b} B"),
    }
}
