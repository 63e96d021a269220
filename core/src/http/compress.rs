//! Streaming compression of response bodies for the `compress` middleware: gzip (`flate2`),
//! Brotli (`brotli`) and Zstandard (`zstd`, the reference library). Bytes go in as the
//! backend sends them; what the encoder has produced is taken after each step, so nothing
//! but the encoder's own state is kept between reads.

use std::io::Write;

/// A content coding the `compress` middleware produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// `gzip`.
    Gzip,
    /// `br`.
    Brotli,
    /// `zstd`.
    Zstd,
}

impl Codec {
    /// The coding's name in `Accept-Encoding`, `Content-Encoding` and the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Brotli => "br",
            Codec::Zstd => "zstd",
        }
    }

    /// The coding called `name` in the configuration.
    pub fn from_name(name: &str) -> Option<Codec> {
        match name {
            "gzip" => Some(Codec::Gzip),
            "br" => Some(Codec::Brotli),
            "zstd" => Some(Codec::Zstd),
            _ => None,
        }
    }
}

/// Brotli's quality: Go's `andybalholm/brotli` default (6) costs several times gzip's CPU;
/// 5 keeps most of the ratio at about half of it.
const BROTLI_QUALITY: u32 = 5;
/// Brotli's window: 2^18 bytes (256 KiB) per response being compressed, not the 4 MiB of
/// the library's default, so many concurrent responses stay small in memory.
const BROTLI_WINDOW_BITS: u32 = 18;
/// Zstandard's level: klauspost's `SpeedDefault` is the reference library's level 3.
const ZSTD_LEVEL: i32 = 3;

enum Encoder {
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Brotli(Box<brotli::CompressorWriter<Vec<u8>>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
}

/// One response body being compressed.
pub struct Compressor {
    encoder: Encoder,
    /// Bytes were written since the last flush.
    dirty: bool,
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor").finish_non_exhaustive()
    }
}

impl Compressor {
    /// A compressor for `codec` at the start of a body.
    pub fn new(codec: Codec) -> Self {
        let encoder = match codec {
            Codec::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::default(),
            )),
            Codec::Brotli => Encoder::Brotli(Box::new(brotli::CompressorWriter::new(
                Vec::new(),
                4096,
                BROTLI_QUALITY,
                BROTLI_WINDOW_BITS,
            ))),
            Codec::Zstd => match zstd::stream::write::Encoder::new(Vec::new(), ZSTD_LEVEL) {
                Ok(e) => Encoder::Zstd(e),
                // The library could not allocate its context: gzip does the job instead.
                Err(_) => Encoder::Gzip(flate2::write::GzEncoder::new(
                    Vec::new(),
                    flate2::Compression::default(),
                )),
            },
        };
        Compressor {
            encoder,
            dirty: false,
        }
    }

    /// Compresses `data`; returns what the encoder produced so far.
    pub fn write(&mut self, data: &[u8]) -> Vec<u8> {
        self.dirty |= !data.is_empty();
        // Writing into a `Vec` cannot fail.
        let _ = match &mut self.encoder {
            Encoder::Gzip(e) => e.write_all(data),
            Encoder::Brotli(e) => e.write_all(data),
            Encoder::Zstd(e) => e.write_all(data),
        };
        self.take()
    }

    /// Pushes out everything written since the last flush (Go's `Flush`, after each read of
    /// a body of unknown length); returns the bytes, or `None` when nothing was written since.
    pub fn flush(&mut self) -> Option<Vec<u8>> {
        if !std::mem::replace(&mut self.dirty, false) {
            return None;
        }
        let _ = match &mut self.encoder {
            Encoder::Gzip(e) => e.flush(),
            Encoder::Brotli(e) => e.flush(),
            Encoder::Zstd(e) => e.flush(),
        };
        Some(self.take())
    }

    /// Ends the compressed stream; returns its last bytes.
    pub fn finish(self) -> Vec<u8> {
        match self.encoder {
            Encoder::Gzip(e) => e.finish().unwrap_or_default(),
            Encoder::Brotli(e) => e.into_inner(),
            Encoder::Zstd(e) => e.finish().unwrap_or_default(),
        }
    }

    fn take(&mut self) -> Vec<u8> {
        std::mem::take(match &mut self.encoder {
            Encoder::Gzip(e) => e.get_mut(),
            Encoder::Brotli(e) => e.get_mut(),
            Encoder::Zstd(e) => e.get_mut(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn decode(codec: Codec, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match codec {
            Codec::Gzip => {
                flate2::read::GzDecoder::new(data)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Codec::Brotli => {
                brotli::Decompressor::new(data, 4096)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Codec::Zstd => {
                out = zstd::stream::decode_all(data).unwrap();
            }
        }
        out
    }

    #[test]
    fn each_codec_round_trips_across_writes_and_flushes() {
        let text: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("line {i} of the body\n").into_bytes())
            .collect();
        for codec in [Codec::Gzip, Codec::Brotli, Codec::Zstd] {
            let mut c = Compressor::new(codec);
            let mut out = Vec::new();
            for (i, piece) in text.chunks(7_000).enumerate() {
                out.extend(c.write(piece));
                if i % 3 == 0 {
                    // A flush makes what was written so far decodable on its own.
                    out.extend(c.flush().unwrap_or_default());
                }
            }
            out.extend(c.finish());
            assert!(out.len() < text.len() / 4, "{codec:?}: {}", out.len());
            assert_eq!(decode(codec, &out), text, "{codec:?}");
        }
    }
}
