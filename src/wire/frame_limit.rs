//! `FrameLimit`: the bytes a client sends on its WebSocket pass through it
//! on their way to actix-ws, and it refuses a frame as soon as its header
//! declares more than `--max-frame-bytes`.
//!
//! Why it exists: actix-http's frame parser compares a frame's length with
//! the limit only once the whole frame has arrived, and actix-ws appends
//! every chunk it reads to one buffer until then. A header declaring 1 GiB
//! followed by a steady stream would grow the server 1:1. Here only the
//! headers are parsed (opcode, FIN, mask bit, 7/16/64-bit length), the
//! payload bytes are counted past without being looked at, and the stream
//! fails with `PayloadError::Overflow` at the first header over the limit,
//! before a byte of its payload is buffered. Fragmented messages are
//! bounded the same way: the lengths of a message's frames (its first data
//! frame and its continuations) may not add up to more than the limit.
//!
//! What is left undecoded in actix-ws is therefore at most one incomplete
//! frame (header plus at most the limit) and what arrived with it in one
//! read. The session actor turns the failure into an `error` frame and
//! close 1009, like actix-ws's own overflow (`is_overflow`). Validating
//! frames is still actix-http's job (reserved bits, masking, opcodes):
//! this adapter only reads what it needs to count. Guarded by
//! `tests/ws_hostile.rs` (`a_frame_header_over_the_limit_closes_the_socket_before_its_payload_is_buffered`).

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_http::error::PayloadError;
use actix_http::ws::ProtocolError;
use bytes::Bytes;
use futures_util::Stream;

/// Longest frame header: 2 bytes, a 64-bit length, a 4-byte mask.
const MAX_HEADER: usize = 14;

/// Where in the client's byte stream the adapter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// Collecting a frame header; `have` of its bytes are in `header`.
    Header { have: usize },
    /// Counting past `left` payload bytes of an accepted frame.
    Payload { left: u64 },
}

/// A client byte stream whose frames and messages stay within a size limit.
pub struct FrameLimit<S> {
    inner: S,
    max: u64,
    position: Position,
    header: [u8; MAX_HEADER],
    /// Bytes of the current fragmented message so far (0 between messages).
    message: u64,
    /// The limit was passed: nothing more is read.
    failed: bool,
}

impl<S> FrameLimit<S> {
    /// Passes `inner` through, failing at the first frame or message over
    /// `max_bytes`.
    pub fn new(inner: S, max_bytes: usize) -> Self {
        Self {
            inner,
            max: max_bytes as u64,
            position: Position::Header { have: 0 },
            header: [0; MAX_HEADER],
            message: 0,
            failed: false,
        }
    }

    /// Counts `chunk` against the limit; `Err` at the first header over it.
    fn check(&mut self, chunk: &[u8]) -> Result<(), PayloadError> {
        let mut rest = chunk;
        while !rest.is_empty() {
            match self.position {
                Position::Payload { left } => {
                    // Payload bytes are only counted: at most `left`, which fits in `rest.len()`
                    // whenever it is the smaller.
                    let passed = left.min(rest.len() as u64);
                    rest = &rest[passed as usize..];
                    self.position = if passed == left {
                        Position::Header { have: 0 }
                    } else {
                        Position::Payload { left: left - passed }
                    };
                }
                Position::Header { have } => {
                    let needed = header_len(&self.header[..have]).unwrap_or(2);
                    let take = (needed - have).min(rest.len());
                    self.header[have..have + take].copy_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    let have = have + take;
                    // The first two bytes may have revealed a longer header.
                    let needed = header_len(&self.header[..have]).unwrap_or(2);
                    self.position = if have < needed {
                        Position::Header { have }
                    } else {
                        let header = self.header;
                        let left = self.accept(&header[..needed])?;
                        if left == 0 {
                            Position::Header { have: 0 }
                        } else {
                            Position::Payload { left }
                        }
                    };
                }
            }
        }
        Ok(())
    }

    /// Checks a complete header; answers its payload length.
    fn accept(&mut self, header: &[u8]) -> Result<u64, PayloadError> {
        let fin = header[0] & 0x80 != 0;
        let opcode = header[0] & 0x0F;
        let length = payload_len(header);
        if length > self.max {
            return Err(PayloadError::Overflow);
        }
        // Control frames (opcode 8 and up) may come between a message's
        // fragments and are no part of it.
        if opcode < 8 {
            // A continuation (0) adds to the message; a text or binary frame starts one.
            self.message = if opcode == 0 { self.message.saturating_add(length) } else { length };
            if self.message > self.max {
                return Err(PayloadError::Overflow);
            }
            if fin {
                self.message = 0;
            }
        }
        Ok(length)
    }
}

/// The payload length a complete header declares.
pub(super) fn payload_len(header: &[u8]) -> u64 {
    match header[1] & 0x7F {
        126 => u64::from(u16::from_be_bytes([header[2], header[3]])),
        127 => {
            u64::from_be_bytes([header[2], header[3], header[4], header[5], header[6], header[7], header[8], header[9]])
        }
        short => u64::from(short),
    }
}

/// How long a header that starts with `start` is, once its first two bytes
/// are known.
pub(super) fn header_len(start: &[u8]) -> Option<usize> {
    let second = *start.get(1)?;
    let extended = match second & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mask = if second & 0x80 != 0 { 4 } else { 0 };
    Some(2 + extended + mask)
}

impl<S> Stream for FrameLimit<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.failed {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => match this.check(&chunk) {
                Ok(()) => Poll::Ready(Some(Ok(chunk))),
                Err(e) => {
                    // Nothing of this chunk is passed on, and nothing more is read.
                    this.failed = true;
                    Poll::Ready(Some(Err(e)))
                }
            },
            other => other,
        }
    }
}

/// Whether a client stream error means a frame or message over the limit,
/// refused here or by actix-ws.
pub fn is_overflow(error: &ProtocolError) -> bool {
    match error {
        ProtocolError::Overflow => true,
        ProtocolError::Io(e) => e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<PayloadError>())
            .is_some_and(|p| matches!(p, PayloadError::Overflow)),
        _ => false,
    }
}

/// Whether a client stream error is a text message that is not UTF-8
/// (actix-ws's check): close 1007, not 1002 (RFC 6455 §7.4.1).
pub fn is_invalid_utf8(error: &ProtocolError) -> bool {
    matches!(error, ProtocolError::Io(e) if e.get_ref().is_some_and(|inner| inner.is::<std::str::Utf8Error>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame header for a payload of `len` bytes.
    fn header(first: u8, len: u64) -> Vec<u8> {
        let mut h = vec![first];
        match len {
            0..=125 => h.push(0x80 | len as u8),
            126..=0xFFFF => {
                h.push(0x80 | 126);
                h.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                h.push(0x80 | 127);
                h.extend_from_slice(&len.to_be_bytes());
            }
        }
        h.extend_from_slice(&[1, 2, 3, 4]);
        h
    }

    fn frame(first: u8, len: usize) -> Vec<u8> {
        let mut f = header(first, len as u64);
        f.resize(f.len() + len, b'x');
        f
    }

    /// Feeds `bytes` in chunks of `size`; answers how many bytes passed
    /// before the limit refused one, or `None` if all passed.
    fn refused_after(bytes: &[u8], size: usize, max: usize) -> Option<usize> {
        let mut limit = FrameLimit::new((), max);
        let mut passed = 0;
        for chunk in bytes.chunks(size) {
            if limit.check(chunk).is_err() {
                return Some(passed);
            }
            passed += chunk.len();
        }
        None
    }

    #[test]
    fn frames_within_the_limit_pass_however_they_are_split() {
        let stream: Vec<u8> = [frame(0x81, 100), frame(0x89, 0), frame(0x81, 1000), frame(0x82, 70_000)].concat();
        for size in [1, 2, 3, 7, 14, 4096, stream.len()] {
            assert_eq!(refused_after(&stream, size, 70_000), None, "chunks of {size}");
        }
    }

    #[test]
    fn a_header_over_the_limit_is_refused_before_its_payload() {
        // 7-bit, 16-bit and 64-bit lengths, including one with the top bit set.
        for len in [126u64, 70_000, 1 << 30, u64::MAX] {
            let mut bytes = frame(0x81, 10);
            bytes.extend(header(0x82, len));
            bytes.resize(bytes.len() + 100_000, 0);
            for size in [1, 5, 64 * 1024] {
                let passed = refused_after(&bytes, size, 125).expect("refused");
                assert!(passed <= 16 + 14, "len {len}, chunks of {size}: {passed} bytes passed");
            }
        }
    }

    #[test]
    fn a_fragmented_message_may_not_add_up_past_the_limit() {
        // Three fragments of 50 with a ping between: 150 > 120.
        let message = [frame(0x01, 50), frame(0x89, 4), frame(0x00, 50), frame(0x80, 50)].concat();
        assert!(refused_after(&message, 7, 120).is_some());
        assert_eq!(refused_after(&message, 7, 150), None);
        // Finished messages do not count against the next one.
        let two = [frame(0x01, 50), frame(0x80, 50), frame(0x81, 100)].concat();
        assert_eq!(refused_after(&two, 3, 100), None);
    }

    #[test]
    fn overflow_is_recognised_from_actix_ws_and_from_this_adapter() {
        assert!(is_overflow(&ProtocolError::Overflow));
        assert!(is_overflow(&ProtocolError::Io(std::io::Error::other(PayloadError::Overflow))));
        assert!(!is_overflow(&ProtocolError::Io(std::io::Error::other(PayloadError::EncodingCorrupted))));
        assert!(!is_overflow(&ProtocolError::UnmaskedFrame));
    }

    #[test]
    fn invalid_utf8_is_told_from_other_protocol_errors() {
        let latin1 = vec![b'c', 0xe9];
        let utf8 = std::str::from_utf8(&latin1).unwrap_err();
        assert!(is_invalid_utf8(&ProtocolError::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, utf8))));
        assert!(!is_invalid_utf8(&ProtocolError::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, "RSV1"))));
        assert!(!is_invalid_utf8(&ProtocolError::Overflow));
    }
}
