//! `InflateStream`: for a session that negotiated permessage-deflate, the
//! client's bytes pass through it after `FrameLimit` and before actix-ws,
//! and every compressed message (RSV1 on its first frame) reaches actix-ws
//! as one ordinary frame of its inflated payload.
//!
//! Why at the byte level: actix-http's frame parser refuses any frame with a
//! reserved bit set and its messages carry no RSV bits, so the compressed
//! frames have to be taken out of the stream before it. Everything else
//! (control frames, uncompressed messages) goes through as it came, and
//! actix-http still validates it.
//!
//! Bounds: `FrameLimit` runs first, so a compressed message (all its
//! fragments) is at most `--max-frame-bytes` on the wire, and so is what is
//! held here; inflating stops one byte past the same limit
//! (`deflate::inflate`), which fails the stream with `PayloadError::Overflow`:
//! the session answers `limit_exceeded` and closes with 1009, as for a frame
//! too large on the wire. Broken framing or DEFLATE data fails it with an
//! I/O error: close 1002.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_http::error::PayloadError;
use actix_http::ws::{OpCode, Parser};
use bytes::{Bytes, BytesMut};
use futures_util::Stream;

use super::deflate::{self, InflateError};
use super::frame_limit::{header_len, payload_len};

/// A client byte stream whose compressed messages are inflated.
pub struct InflateStream<S> {
    inner: S,
    max: usize,
    /// Bytes of a frame not complete yet.
    pending: BytesMut,
    /// The compressed message being collected: its opcode and unmasked payload so far.
    message: Option<(u8, Vec<u8>)>,
    failed: bool,
}

fn protocol_error(what: &str) -> PayloadError {
    PayloadError::Io(io::Error::new(io::ErrorKind::InvalidData, what.to_owned()))
}

impl<S> InflateStream<S> {
    /// Inflates compressed messages of `inner`, refusing any that inflates
    /// past `max_bytes`. `inner` must already refuse frames and messages
    /// over `max_bytes` (`FrameLimit`).
    pub fn new(inner: S, max_bytes: usize) -> Self {
        Self { inner, max: max_bytes, pending: BytesMut::new(), message: None, failed: false }
    }

    /// What of `chunk` (with what was pending) goes on to actix-ws.
    fn process(&mut self, chunk: &[u8]) -> Result<Bytes, PayloadError> {
        self.pending.extend_from_slice(chunk);
        let mut out = BytesMut::new();
        while let Some(frame) = self.complete_frame() {
            self.frame(&frame, &mut out)?;
        }
        if self.pending.is_empty() {
            // An idle session holds no buffer.
            self.pending = BytesMut::new();
        }
        Ok(out.freeze())
    }

    /// Splits the next complete frame off `pending`.
    fn complete_frame(&mut self) -> Option<BytesMut> {
        let header = header_len(&self.pending)?;
        if self.pending.len() < header {
            return None;
        }
        // At most the limit: `FrameLimit` refused longer frames.
        let len = header + payload_len(&self.pending[..header]) as usize;
        (self.pending.len() >= len).then(|| self.pending.split_to(len))
    }

    /// Passes a frame on, or adds it to the compressed message it belongs to.
    fn frame(&mut self, frame: &[u8], out: &mut BytesMut) -> Result<(), PayloadError> {
        let (fin, rsv1, opcode) = (frame[0] & 0x80 != 0, frame[0] & 0x40 != 0, frame[0] & 0x0F);
        // Control frames may come between fragments; they and uncompressed
        // messages are actix-http's to check.
        if opcode >= 8 || (!rsv1 && self.message.is_none()) {
            out.extend_from_slice(frame);
            return Ok(());
        }
        if frame[0] & 0x30 != 0 || frame[1] & 0x80 == 0 {
            return Err(protocol_error("RSV2/RSV3 set or unmasked frame"));
        }
        let header = header_len(frame).unwrap_or(2);
        let key = &frame[header - 4..header];
        let payload = frame[header..].iter().zip(key.iter().cycle()).map(|(byte, mask)| byte ^ mask);
        match (opcode, rsv1, &mut self.message) {
            (1 | 2, true, None) => self.message = Some((opcode, payload.collect())),
            // RSV1 is set on a message's first frame only (RFC 7692 §6.1).
            (0, false, Some((_, message))) => message.extend(payload),
            _ => return Err(protocol_error("frame out of place in a compressed message")),
        }
        if fin {
            let (opcode, message) = self.message.take().unwrap_or_default();
            let inflated = deflate::inflate(message, self.max).map_err(|e| match e {
                InflateError::TooLarge => PayloadError::Overflow,
                InflateError::Corrupt => protocol_error("invalid DEFLATE data"),
            })?;
            // Client frames are masked; actix-http's parser insists.
            Parser::write_message(out, inflated, OpCode::from(opcode), true, true);
        }
        Ok(())
    }
}

impl<S> Stream for InflateStream<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.failed {
                return Poll::Ready(None);
            }
            return match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => match this.process(&chunk) {
                    // Only part of a frame so far: read on.
                    Ok(out) if out.is_empty() => continue,
                    Ok(out) => Poll::Ready(Some(Ok(out))),
                    Err(e) => {
                        this.failed = true;
                        Poll::Ready(Some(Err(e)))
                    }
                },
                other => other,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame with its first byte given.
    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = BytesMut::new();
        Parser::write_message(&mut out, payload, OpCode::from(first & 0x0F), first & 0x80 != 0, true);
        out[0] |= first & 0x70;
        out.to_vec()
    }

    /// Feeds `bytes` in chunks of `size`; the frames actix-http then parses
    /// (opcode and payload).
    fn parsed(bytes: &[u8], size: usize, max: usize) -> Result<Vec<(OpCode, Vec<u8>)>, PayloadError> {
        let mut stream = InflateStream::new((), max);
        let mut passed = BytesMut::new();
        for chunk in bytes.chunks(size) {
            passed.extend_from_slice(&stream.process(chunk)?);
        }
        let mut frames = Vec::new();
        while let Some((fin, opcode, payload)) = Parser::parse(&mut passed, true, max).unwrap() {
            assert!(fin);
            frames.push((opcode, payload.map(|p| p.to_vec()).unwrap_or_default()));
        }
        Ok(frames)
    }

    #[test]
    fn a_fragmented_compressed_message_arrives_inflated_after_control_frames() {
        let message =
            br#"{"type":"subscribe","store":"s1","view":{"page":1,"page_size":25,"sort":"revenue"}}"#.repeat(4);
        let compressed = deflate::compress(&message).unwrap();
        let (a, b) = compressed.split_at(compressed.len() / 2);
        let stream = [frame(0x41, a), frame(0x89, b"p"), frame(0x80, b), frame(0x81, b"{\"type\":\"ping\"}")].concat();
        for size in [1, 3, 14, stream.len()] {
            let frames = parsed(&stream, size, 16 * 1024).unwrap();
            assert_eq!(frames.len(), 3, "chunks of {size}");
            assert_eq!(frames[0], (OpCode::Ping, b"p".to_vec()));
            assert_eq!(frames[1], (OpCode::Text, message.clone()));
            assert_eq!(frames[2], (OpCode::Text, b"{\"type\":\"ping\"}".to_vec()));
        }
    }

    #[test]
    fn past_the_limit_inflated_is_an_overflow() {
        let bomb = deflate::compress(&vec![b' '; 1 << 20]).unwrap();
        let refused = parsed(&frame(0xC1, &bomb), 4096, 16 * 1024).unwrap_err();
        assert!(matches!(refused, PayloadError::Overflow), "{refused:?}");
    }

    #[test]
    fn misplaced_compression_is_a_protocol_error() {
        let compressed = deflate::compress(&b"{\"type\":\"ping\"}".repeat(40)).unwrap();
        for stream in [
            // RSV1 on a continuation, and a new message inside a compressed one.
            [frame(0x41, &compressed), frame(0xC0, b"x")].concat(),
            [frame(0x41, &compressed), frame(0x81, b"x")].concat(),
            [frame(0x51, &compressed)].concat(),
            [frame(0xC1, b"\xff\xff\xff\xff")].concat(),
        ] {
            let refused = parsed(&stream, 64, 16 * 1024).unwrap_err();
            assert!(matches!(refused, PayloadError::Io(_)), "{refused:?}");
        }
    }
}
