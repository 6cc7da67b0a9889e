//! permessage-deflate (RFC 7692): which offers the server accepts, and the
//! DEFLATE work on messages, done by `flate2` (its Rust backend).
//!
//! The server always answers `server_no_context_takeover` and
//! `client_no_context_takeover` (RFC 7692 §7.1.1.1 and §7.1.1.2 let a server
//! require both even when the client did not offer them):
//!
//! - without context, a message compressed once is valid on every socket that
//!   negotiated the extension, so a flush compresses each distinct frame once
//!   (`outbox::Frame`), not once per subscriber;
//! - without client context, a compressed client message inflates on its own:
//!   no session keeps a 32 KiB inflate window for its lifetime, only each
//!   worker thread one inflater.
//!
//! A client that limits the server's window (`server_max_window_bits=N`
//! below 15) is answered with it, and gets compressed only the frames of at
//! most 2^N bytes: the Rust backend always compresses with a 32 KiB window,
//! but without context a message cannot refer further back than its own
//! length. Unknown or repeated parameters and malformed values decline the
//! offer: such a client gets an uncompressed session, never a broken one.

use std::cell::RefCell;

use bytes::Bytes;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The answer to an accepted offer (plus the server's window, when limited).
pub const RESPONSE: &str = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

/// An accepted offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreed {
    /// The server's LZ77 window, 2^bits bytes (15 unless the client limited it).
    pub server_window_bits: u8,
}

impl Agreed {
    /// The `Sec-WebSocket-Extensions` answer.
    pub fn response(&self) -> String {
        match self.server_window_bits {
            15 => RESPONSE.to_owned(),
            bits => format!("{RESPONSE}; server_max_window_bits={bits}"),
        }
    }

    /// The longest frame that may go out compressed.
    pub fn max_compressed(&self) -> usize {
        match self.server_window_bits {
            15 => usize::MAX,
            bits => 1 << bits,
        }
    }
}

/// Frames shorter than this go out uncompressed: the short ones (pong,
/// subscribed, presence, resync, errors) gain at most a few bytes or grow,
/// while a one-event batch of about 240 bytes shrinks by a third
/// (docs/benchmarks.md).
pub const MIN_COMPRESSED: usize = 128;

/// How hard to compress: each distinct frame is compressed once, however
/// many sockets it goes to (level chosen in docs/benchmarks.md).
const LEVEL: u32 = 6;

/// What a sync flush ends a message with: removed from every message sent,
/// put back before inflating one received (RFC 7692 §7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

thread_local! {
    static DEFLATER: RefCell<Compress> = RefCell::new(Compress::new(Compression::new(LEVEL), false));
    static INFLATER: RefCell<Decompress> = RefCell::new(Decompress::new(false));
    /// `inflate_trusted`'s, never cleared between messages.
    static TRUSTED_INFLATER: RefCell<Decompress> = RefCell::new(Decompress::new(false));
}

/// The first offer among the `Sec-WebSocket-Extensions` header values of
/// permessage-deflate with parameters the server can accept.
pub fn negotiate<'a>(headers: impl IntoIterator<Item = &'a str>) -> Option<Agreed> {
    headers.into_iter().flat_map(|value| value.split(',')).find_map(acceptable)
}

/// One offer: `permessage-deflate` and its parameters, each at most once.
fn acceptable(offer: &str) -> Option<Agreed> {
    let mut parts = offer.split(';').map(str::trim);
    if !parts.next().is_some_and(|name| name.eq_ignore_ascii_case("permessage-deflate")) {
        return None;
    }
    let mut agreed = Agreed { server_window_bits: 15 };
    let mut seen: Vec<&str> = Vec::new();
    for param in parts {
        let (key, value) = match param.split_once('=') {
            Some((key, value)) => (key.trim(), Some(unquote(value.trim()))),
            None => (param, None),
        };
        if seen.contains(&key) {
            return None;
        }
        seen.push(key);
        match (key, value) {
            ("server_no_context_takeover" | "client_no_context_takeover", None) => {}
            ("server_max_window_bits", Some(bits)) => agreed.server_window_bits = window_bits(bits)?,
            // The inflater takes any window; the answer leaves it to the client.
            ("client_max_window_bits", None) => {}
            ("client_max_window_bits", Some(bits)) => {
                window_bits(bits)?;
            }
            _ => return None,
        }
    }
    Some(agreed)
}

fn unquote(value: &str) -> &str {
    value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value)
}

/// 8 to 15, written without sign or leading zeros (RFC 7692 §7.1.2).
fn window_bits(bits: &str) -> Option<u8> {
    let at = ["8", "9", "10", "11", "12", "13", "14", "15"].iter().position(|b| *b == bits)?;
    Some(8 + at as u8)
}

/// `text` as the payload of one compressed message (RSV1 set); `None` when
/// compressing would not make it smaller.
pub fn compress(text: &[u8]) -> Option<Bytes> {
    DEFLATER.with_borrow_mut(|deflater| {
        deflater.reset();
        let mut out = Vec::with_capacity(text.len() / 4 + 64);
        loop {
            let read = deflater.total_in() as usize;
            deflater.compress_vec(&text[read..], &mut out, FlushCompress::Sync).ok()?;
            // Done when all input is in and the flush did not stop for room.
            if deflater.total_in() as usize == text.len() && out.len() < out.capacity() {
                break;
            }
            if out.len() >= text.len() {
                return None;
            }
            out.reserve(out.capacity());
        }
        let len = out.len().checked_sub(TAIL.len()).filter(|_| out.ends_with(&TAIL))?;
        out.truncate(len);
        (len < text.len()).then(|| Bytes::from(out))
    })
}

/// Why a received message did not inflate.
#[derive(Debug, PartialEq, Eq)]
pub enum InflateError {
    /// It inflates past the limit; inflating stopped there.
    TooLarge,
    /// It is not valid DEFLATE data.
    Corrupt,
}

/// Inflates one compressed message (the payloads of its frames, joined),
/// refusing it as soon as it passes `max` bytes: the output never holds more
/// than `max + 1`, whatever the input declares.
pub fn inflate(message: Vec<u8>, max: usize) -> Result<Vec<u8>, InflateError> {
    INFLATER.with_borrow_mut(|inflater| {
        inflater.reset(false);
        inflate_with(inflater, message, max)
    })
}

/// `inflate` for messages of a peer the caller trusts (the load generator
/// reading its server, 100,000 messages a second): the inflater is not
/// cleared first, which zeroes its 32 KiB window each time. Without context
/// takeover each message starts a block and refers only to its own bytes,
/// so messages inflate one after the other like one stream; an untrusted
/// one could refer back into an earlier message's bytes, which is why
/// `inflate` clears. Cleared after an error.
pub fn inflate_trusted(message: Vec<u8>, max: usize) -> Result<Vec<u8>, InflateError> {
    TRUSTED_INFLATER.with_borrow_mut(|inflater| {
        let inflated = inflate_with(inflater, message, max);
        if inflated.is_err() {
            inflater.reset(false);
        }
        inflated
    })
}

fn inflate_with(inflater: &mut Decompress, mut message: Vec<u8>, max: usize) -> Result<Vec<u8>, InflateError> {
    message.extend_from_slice(&TAIL);
    // The inflater's totals count from its last reset, not from this message.
    let (start_in, start_out) = (inflater.total_in(), inflater.total_out());
    let mut out = Vec::with_capacity((message.len() * 4).clamp(256, max + 1));
    loop {
        let (read, written) = (inflater.total_in() - start_in, inflater.total_out() - start_out);
        let status = inflater
            .decompress_vec(&message[read as usize..], &mut out, FlushDecompress::Sync)
            .map_err(|_| InflateError::Corrupt)?;
        if out.len() > max {
            return Err(InflateError::TooLarge);
        }
        let all_in = (inflater.total_in() - start_in) as usize == message.len();
        if status == Status::StreamEnd || (all_in && out.len() < out.capacity()) {
            return Ok(out);
        }
        if out.len() == out.capacity() {
            // Grow towards one byte past the limit, never beyond.
            out.reserve_exact(out.capacity().min((max + 1).saturating_sub(out.capacity())));
        } else if (inflater.total_in() - start_in, inflater.total_out() - start_out) == (read, written) {
            return Err(InflateError::Corrupt);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceptable_offers_are_accepted_in_any_header_and_position() {
        for offer in [
            "permessage-deflate",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits=10; server_no_context_takeover",
            "permessage-deflate;client_no_context_takeover;server_max_window_bits=15",
            "Permessage-Deflate; client_max_window_bits=\"12\"",
            "x-webkit-deflate-frame, permessage-deflate",
            "permessage-deflate; server_max_window_bits=16, permessage-deflate",
        ] {
            assert_eq!(negotiate([offer]), Some(Agreed { server_window_bits: 15 }), "{offer}");
        }
        assert!(negotiate(["x-other", "permessage-deflate"]).is_some());
        // A limited server window is answered, and bounds what is compressed.
        let limited = negotiate(["permessage-deflate; server_max_window_bits=10"]).unwrap();
        assert_eq!(limited.server_window_bits, 10);
        assert_eq!(limited.response(), format!("{RESPONSE}; server_max_window_bits=10"));
        assert_eq!((limited.max_compressed(), Agreed { server_window_bits: 15 }.response()), (1024, RESPONSE.into()));
    }

    #[test]
    fn malformed_or_unsupported_offers_are_declined() {
        for offer in [
            "",
            "x-webkit-deflate-frame",
            "permessage-deflate;",
            "permessage-deflate; client_max_window_bits=16",
            "permessage-deflate; client_max_window_bits=08",
            "permessage-deflate; client_max_window_bits=",
            "permessage-deflate; client_max_window_bits=\"10",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=+9",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; mystery",
            "permessage-deflatex",
        ] {
            assert_eq!(negotiate([offer]), None, "{offer}");
        }
    }

    #[test]
    fn a_compressed_message_inflates_back_and_small_gains_are_skipped() {
        let text = serde_json::json!({"rows": (0..50).map(|i| format!("Alpine Jacket {i}")).collect::<Vec<_>>()})
            .to_string()
            .into_bytes();
        let compressed = compress(&text).expect("compresses");
        assert!(compressed.len() * 4 < text.len(), "{} of {}", compressed.len(), text.len());
        assert!(!compressed.ends_with(&TAIL));
        assert_eq!(inflate(compressed.to_vec(), text.len()).unwrap(), text);
        // The thread's deflater starts over for each message.
        assert_eq!(compress(&text).unwrap(), compressed);
        // Random-looking bytes do not get smaller: sent as they are.
        let mut x = 1u64;
        let noise: Vec<u8> = (0..600)
            .map(|_| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                (x >> 56) as u8
            })
            .collect();
        assert_eq!(compress(&noise), None);
    }

    #[test]
    fn trusted_messages_inflate_one_after_the_other_without_clearing() {
        let messages: Vec<Vec<u8>> =
            (0..3).map(|i| format!("{{\"seq\":{i},\"kind\":\"product.updated\"}}").repeat(9).into_bytes()).collect();
        for text in messages.iter().chain(&messages) {
            let compressed = compress(text).unwrap();
            assert_eq!(inflate_trusted(compressed.to_vec(), text.len()).unwrap(), *text);
        }
        assert_eq!(inflate_trusted(vec![0xff; 40], 1000), Err(InflateError::Corrupt));
        assert_eq!(inflate_trusted(compress(&messages[0]).unwrap().to_vec(), 1000).unwrap(), messages[0]);
    }

    #[test]
    fn inflating_stops_one_byte_past_the_limit() {
        let bomb = compress(&vec![b' '; 4 << 20]).unwrap();
        assert!(bomb.len() < 8 * 1024, "{}", bomb.len());
        assert_eq!(inflate(bomb.to_vec(), 16 * 1024), Err(InflateError::TooLarge));
        let exact = compress(&[b'a'; 1000]).unwrap();
        assert_eq!(inflate(exact.to_vec(), 1000).unwrap().len(), 1000);
        assert_eq!(inflate(exact.to_vec(), 999), Err(InflateError::TooLarge));
        assert_eq!(inflate(vec![0xff; 40], 1000), Err(InflateError::Corrupt));
    }
}
