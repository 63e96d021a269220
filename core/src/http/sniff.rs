//! Content-type sniffing as Go's `http.DetectContentType` does it (the WHATWG MIME sniffing
//! table's subset Go implements): at most the first 512 bytes are looked at; HTML tags and
//! `<?xml` after leading whitespace, then fixed signatures (documents, text byte-order marks,
//! images, audio and video, fonts, archives), then plain text when no byte is binary, else
//! `application/octet-stream`. The `contentType` middleware gives answers without a
//! `Content-Type` this type.

/// How many bytes are looked at.
const SNIFF_LEN: usize = 512;

/// HTML tags recognised after leading whitespace, case-insensitively, when followed by a
/// space or `>`.
const HTML_TAGS: &[&[u8]] = &[
    b"<!DOCTYPE HTML",
    b"<HTML",
    b"<HEAD",
    b"<SCRIPT",
    b"<IFRAME",
    b"<H1",
    b"<DIV",
    b"<FONT",
    b"<TABLE",
    b"<A",
    b"<STYLE",
    b"<TITLE",
    b"<B",
    b"<BODY",
    b"<BR",
    b"<P",
    b"<!--",
];

/// A signature: the bytes under `mask` equal `pattern` (a mask of `None` is all ones).
struct Masked {
    mask: Option<&'static [u8]>,
    pattern: &'static [u8],
    kind: &'static str,
}

const fn exact(pattern: &'static [u8], kind: &'static str) -> Masked {
    Masked {
        mask: None,
        pattern,
        kind,
    }
}

const fn masked(mask: &'static [u8], pattern: &'static [u8], kind: &'static str) -> Masked {
    Masked {
        mask: Some(mask),
        pattern,
        kind,
    }
}

/// The signatures after HTML and XML, in the table's order (MP4 is checked between the
/// audio/video ones and WebM, see [`is_mp4`]).
const BEFORE_MP4: &[Masked] = &[
    exact(b"%PDF-", "application/pdf"),
    exact(b"%!PS-Adobe-", "application/postscript"),
    masked(
        b"\xFF\xFF\x00\x00",
        b"\xFE\xFF\x00\x00",
        "text/plain; charset=utf-16be",
    ),
    masked(
        b"\xFF\xFF\x00\x00",
        b"\xFF\xFE\x00\x00",
        "text/plain; charset=utf-16le",
    ),
    masked(
        b"\xFF\xFF\xFF\x00",
        b"\xEF\xBB\xBF\x00",
        "text/plain; charset=utf-8",
    ),
    exact(b"\x00\x00\x01\x00", "image/x-icon"),
    exact(b"\x00\x00\x02\x00", "image/x-icon"),
    exact(b"BM", "image/bmp"),
    exact(b"GIF87a", "image/gif"),
    exact(b"GIF89a", "image/gif"),
    masked(
        b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF\xFF\xFF",
        b"RIFF\x00\x00\x00\x00WEBPVP",
        "image/webp",
    ),
    exact(b"\x89PNG\x0D\x0A\x1A\x0A", "image/png"),
    exact(b"\xFF\xD8\xFF", "image/jpeg"),
    masked(
        b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF",
        b"FORM\x00\x00\x00\x00AIFF",
        "audio/aiff",
    ),
    exact(b"ID3", "audio/mpeg"),
    exact(b"OggS\x00", "application/ogg"),
    exact(b"MThd\x00\x00\x00\x06", "audio/midi"),
    masked(
        b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF",
        b"RIFF\x00\x00\x00\x00AVI ",
        "video/avi",
    ),
    masked(
        b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF",
        b"RIFF\x00\x00\x00\x00WAVE",
        "audio/wave",
    ),
];

const AFTER_MP4: &[Masked] = &[
    exact(b"\x1A\x45\xDF\xA3", "video/webm"),
    // Embedded OpenType: `LP` at offset 34.
    masked(
        b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xFF\xFF",
        b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00LP",
        "application/vnd.ms-fontobject",
    ),
    exact(b"\x00\x01\x00\x00", "font/ttf"),
    exact(b"OTTO", "font/otf"),
    exact(b"ttcf", "font/collection"),
    exact(b"wOFF", "font/woff"),
    exact(b"wOF2", "font/woff2"),
    exact(b"\x1F\x8B\x08", "application/x-gzip"),
    exact(b"PK\x03\x04", "application/zip"),
    exact(b"Rar!\x1A\x07\x00", "application/x-rar-compressed"),
    exact(b"Rar!\x1A\x07\x01\x00", "application/x-rar-compressed"),
    exact(b"\x00\x61\x73\x6D", "application/wasm"),
];

impl Masked {
    fn matches(&self, data: &[u8]) -> bool {
        if data.len() < self.pattern.len() {
            return false;
        }
        self.pattern.iter().enumerate().all(|(i, p)| {
            let m = self.mask.map_or(0xFF, |m| m[i]);
            data[i] & m == *p
        })
    }
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

/// An HTML tag at the start of `data`, case-insensitively, followed by a space or `>`.
fn is_html(data: &[u8], tag: &[u8]) -> bool {
    if data.len() < tag.len() + 1 {
        return false;
    }
    let same = tag.iter().zip(data).all(|(t, d)| {
        let d = if t.is_ascii_uppercase() { d & 0xDF } else { *d };
        *t == d
    });
    same && matches!(data[tag.len()], b' ' | b'>')
}

/// An ISO base media file whose brands name `mp4`.
fn is_mp4(data: &[u8]) -> bool {
    if data.len() < 12 {
        return false;
    }
    let size = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
    if data.len() < size || size % 4 != 0 || &data[4..8] != b"ftyp" {
        return false;
    }
    (8..size)
        .step_by(4)
        .filter(|at| *at != 12)
        .any(|at| &data[at..at + 3] == b"mp4")
}

/// Go's `http.DetectContentType`: always a type, `application/octet-stream` at worst.
pub fn detect_content_type(data: &[u8]) -> &'static str {
    let data = &data[..data.len().min(SNIFF_LEN)];
    let start = data
        .iter()
        .position(|b| !is_whitespace(*b))
        .unwrap_or(data.len());
    let text = &data[start..];
    if HTML_TAGS.iter().any(|tag| is_html(text, tag)) {
        return "text/html; charset=utf-8";
    }
    if text.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    if let Some(s) = BEFORE_MP4.iter().find(|s| s.matches(data)) {
        return s.kind;
    }
    if is_mp4(data) {
        return "video/mp4";
    }
    if let Some(s) = AFTER_MP4.iter().find(|s| s.matches(data)) {
        return s.kind;
    }
    let binary = text
        .iter()
        .any(|b| matches!(b, 0x00..=0x08 | 0x0B | 0x0E..=0x1A | 0x1C..=0x1F));
    if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}

#[cfg(test)]
mod tests {
    use super::detect_content_type as sniff;

    #[test]
    fn types_as_go_detects_them() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "text/plain; charset=utf-8"),
            (b"plain text here", "text/plain; charset=utf-8"),
            (b"<html><body>hi</body></html>", "text/html; charset=utf-8"),
            (b"  \n<!DOCTYPE html>", "text/html; charset=utf-8"),
            (b"<HtMl>", "text/html; charset=utf-8"),
            (b"<a href=x>", "text/html; charset=utf-8"),
            (b"<abbr>", "text/plain; charset=utf-8"),
            (b"<!-- c -->", "text/html; charset=utf-8"),
            (b"\n<?xml version='1.0'?>", "text/xml; charset=utf-8"),
            (b"%PDF-1.4", "application/pdf"),
            (b"\xEF\xBB\xBFhi", "text/plain; charset=utf-8"),
            (b"\xFE\xFF\x00h", "text/plain; charset=utf-16be"),
            (b"GIF89a....", "image/gif"),
            (b"\x89PNG\x0D\x0A\x1A\x0A....", "image/png"),
            (b"\xFF\xD8\xFF\xE0", "image/jpeg"),
            (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
            (b"RIFF\x10\x00\x00\x00WAVEfmt ", "audio/wave"),
            (b"ID3\x03", "audio/mpeg"),
            (
                b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
                "video/mp4",
            ),
            (b"\x1F\x8B\x08\x00", "application/x-gzip"),
            (b"PK\x03\x04", "application/zip"),
            (b"wOF2", "font/woff2"),
            (b"\x00asm\x01", "application/wasm"),
            (b"\x00\x01\x02binary", "application/octet-stream"),
            (b"{\"a\": 1}", "text/plain; charset=utf-8"),
            (b"\x1Bescape", "text/plain; charset=utf-8"),
        ];
        for (data, want) in cases {
            assert_eq!(sniff(data), *want, "{:?}", String::from_utf8_lossy(data));
        }
        // Only the first 512 bytes count.
        let mut late = vec![b'a'; 600];
        late[550] = 0;
        assert_eq!(sniff(&late), "text/plain; charset=utf-8");
    }
}
