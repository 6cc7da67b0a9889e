//! A session's outbound path: the bounded `Outbox` that stores and the
//! session actor push encoded frames into, and `OutboxBody`, the WebSocket
//! response body that drains it onto the socket.
//!
//! Overflow policy, named: **drop and resync**. When a push finds the outbox
//! full, the pusher evicts the session (`Evicted { reason: SLOW_CONSUMER }`);
//! the session actor then drops everything queued and queues `resync` for
//! each of its stores. One slow client therefore never holds more than
//! `capacity` frames, and never delays anybody else.
//!
//! Stores push into the outbox directly rather than through a
//! `Recipient<Frame>` and the session's mailbox: that is one queue fewer per
//! delivery on the hot path, and the bound is checked where fan-out happens.
//!
//! Deviation from actix-ws, on purpose: `actix_ws::handle` still does the
//! handshake and its `MessageStream` still reads the client's frames, but the
//! response body is `OutboxBody` instead of actix-ws's `Session`. That
//! session is a 32-slot channel that a writer task had to feed from our
//! outbox: a second queue, a second wake-up per frame and about 3.5 KiB per
//! connection (heaptrack, see docs/benchmarks.md). Here the outbox *is* the
//! body: the HTTP dispatcher polls it, and every frame queued since the last
//! poll goes out in one chunk, framed by actix-http's own WebSocket `Parser`.
//!
//! Compression (permessage-deflate, `wire::deflate`): a `Frame` carries its
//! text and, once a socket that negotiated the extension writes it, its
//! compressed payload, kept in the frame. Every other such socket writing the
//! same frame (the fan-out shares one per topic set and view) reuses it, so a
//! flush to 1,000 subscribers compresses each distinct frame once. The body
//! compresses before it takes its queue's lock: a store pushing into this
//! outbox never waits for a compression.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use actix::prelude::*;
use actix_http::ws::{CloseReason, OpCode, Parser};
use actix_web::body::{BodySize, MessageBody};
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use prometheus::IntGauge;

use crate::counted::lock;
use crate::ops::metrics::{Metrics, StoreCounters};
use crate::wire::deflate;

/// Reason given when a session's outbox overflowed.
pub const SLOW_CONSUMER: &str = "slow_consumer";

/// A store dropped this session's subscription.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct Evicted {
    pub store: String,
    pub reason: &'static str,
}

/// What pushing a frame did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// The outbox was full; the session has been told.
    Overflowed,
    /// The session is gone.
    Closed,
}

/// A store's delivery of committed changes: counted as succeeded, with its
/// commit-to-socket latency, once written.
#[derive(Clone)]
pub struct Delivery {
    pub counters: Arc<StoreCounters>,
    pub committed_at: Instant,
}

/// An encoded server message, cheap to clone and share among sessions.
#[derive(Clone)]
pub struct Frame(Arc<Encoded>);

struct Encoded {
    /// JSON text, or binary for the test echo route (`http::ws::echo`).
    bytes: Bytes,
    opcode: OpCode,
    /// The permessage-deflate payload, made by the first compressing socket
    /// that writes the frame; `None` inside when it would not be smaller.
    deflated: OnceLock<Option<Bytes>>,
}

impl Frame {
    /// A binary message.
    pub fn binary(bytes: Bytes) -> Self {
        Frame(Arc::new(Encoded { bytes, opcode: OpCode::Binary, deflated: OnceLock::new() }))
    }

    /// The compressed payload, compressing on first use; `None` for frames
    /// too small to gain or that do not shrink.
    pub fn deflated(&self) -> Option<&Bytes> {
        if self.0.bytes.len() < deflate::MIN_COMPRESSED {
            return None;
        }
        self.0.deflated.get_or_init(|| deflate::compress(&self.0.bytes)).as_ref()
    }

    /// Whether a compressing socket still has to compress it.
    fn needs_deflating(&self) -> bool {
        self.0.bytes.len() >= deflate::MIN_COMPRESSED && self.0.deflated.get().is_none()
    }
}

impl From<ByteString> for Frame {
    fn from(text: ByteString) -> Self {
        Frame(Arc::new(Encoded { bytes: text.into_bytes(), opcode: OpCode::Text, deflated: OnceLock::new() }))
    }
}

impl From<&str> for Frame {
    fn from(text: &str) -> Self {
        ByteString::from(text).into()
    }
}

/// A frame in a session's queue.
pub struct Outgoing {
    pub frame: Frame,
    pub delivery: Option<Delivery>,
}

#[derive(Default)]
struct Queue {
    frames: VecDeque<Outgoing>,
    /// How many frames at the front are `replace_queue` replacements.
    replacements: usize,
    /// Control frames, sent ahead of queued frames; one of each at most, so
    /// a client that pings without reading cannot grow them (a pong answers
    /// the latest ping, RFC 6455 §5.5.3).
    ping: bool,
    pong: Option<Bytes>,
    /// Close once the frames queued before it are out.
    close: Option<Option<CloseReason>>,
    /// The socket is done: pushes are refused.
    finished: bool,
    /// The dispatcher waiting for something to write.
    waker: Option<Waker>,
}

/// The state an `Outbox` and its `OutboxBody` share.
pub struct OutboxQueue {
    queue: Mutex<Queue>,
    capacity: usize,
    /// Frames queued in every outbox (`storesync_outbox_frames`).
    queued: IntGauge,
}

impl OutboxQueue {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        lock(&self.queue)
    }

    /// Changes the queue and wakes the socket's writer.
    fn update<T>(&self, change: impl FnOnce(&mut Queue) -> T) -> T {
        let mut queue = self.lock();
        let result = change(&mut queue);
        let waker = queue.waker.take();
        drop(queue);
        if let Some(waker) = waker {
            waker.wake();
        }
        result
    }
}

/// The sending side of a session's bounded frame queue.
#[derive(Clone)]
pub struct Outbox {
    pub session: u64,
    queue: Arc<OutboxQueue>,
    evict: Recipient<Evicted>,
}

impl Outbox {
    /// The outbox of `session`, feeding the body that owns `queue`.
    pub fn new(session: u64, queue: Arc<OutboxQueue>, evict: Recipient<Evicted>) -> Self {
        Self { session, queue, evict }
    }

    /// Queues a frame without waiting; on overflow tells the session that
    /// `store` evicted it.
    /// Frames shared among sessions are pushed as one `Frame`, cloned.
    pub fn push(&self, frame: impl Into<Frame>, store: &str) -> Pushed {
        self.deliver(frame, None, store)
    }

    /// Queues a frame that carries committed changes, for delivery metrics.
    pub fn deliver(&self, frame: impl Into<Frame>, delivery: Option<Delivery>, store: &str) -> Pushed {
        let frame = frame.into();
        let capacity = self.queue.capacity;
        let pushed = self.queue.update(|q| {
            if q.finished {
                Pushed::Closed
            } else if q.frames.len() >= capacity {
                Pushed::Overflowed
            } else {
                q.frames.push_back(Outgoing { frame, delivery });
                self.queue.queued.inc();
                Pushed::Queued
            }
        });
        if pushed == Pushed::Overflowed {
            self.evict(store, SLOW_CONSUMER);
        }
        pushed
    }

    /// Tells the session a store dropped it (restart, revocation, overflow).
    pub fn evict(&self, store: &str, reason: &'static str) {
        self.evict.do_send(Evicted { store: store.to_owned(), reason });
    }

    /// Pings the client ahead of queued frames.
    pub fn ping(&self) {
        self.queue.update(|q| q.ping = !q.finished);
    }

    /// Answers a client's ping ahead of queued frames.
    pub fn pong(&self, payload: Bytes) {
        self.queue.update(|q| q.pong = (!q.finished).then_some(payload));
    }

    /// Drops every queued frame except earlier replacements not yet
    /// written, and queues `replacements` after those: a second eviction
    /// never discards the `resync` of the first.
    pub fn replace_queue(&self, replacements: Vec<ByteString>) {
        self.queue.update(|q| {
            if q.finished {
                return;
            }
            let kept = q.replacements;
            self.queue.queued.add(replacements.len() as i64 - (q.frames.len() - kept) as i64);
            for dropped in q.frames.drain(kept..) {
                if let Some(d) = dropped.delivery {
                    d.counters.dropped.inc();
                }
            }
            q.replacements += replacements.len();
            q.frames.extend(replacements.into_iter().map(|frame| Outgoing { frame: frame.into(), delivery: None }));
        });
    }

    /// Closes the socket once what is queued (an error explaining the close)
    /// has been written.
    pub fn close(&self, reason: Option<CloseReason>) {
        self.queue.update(|q| q.close = (!q.finished).then_some(reason));
    }
}

/// The most a body hands the HTTP dispatcher per poll. With the server's
/// write buffer limit (`lib.rs`, `h1_write_buffer_size(WRITE_CHUNK)`), the
/// dispatcher never holds more than `2 * WRITE_CHUNK - 1` bytes, so its
/// 8 KiB write buffer (actix-http's `HW_BUFFER_SIZE`) never has to grow: a
/// buffer grown once (by an uncompressed snapshot, say) stays grown for the
/// life of the connection.
pub const WRITE_CHUNK: usize = 4096;

/// The WebSocket response body: writes what its outbox queued, as
/// WebSocket frames, in one chunk per poll (at most `WRITE_CHUNK` bytes;
/// the rest of a longer one follows in the next polls).
pub struct OutboxBody {
    queue: Arc<OutboxQueue>,
    metrics: Arc<Metrics>,
    /// Frames up to this long go out compressed (0: the client did not
    /// negotiate permessage-deflate).
    deflate_up_to: usize,
    closed: bool,
    /// Framed bytes not handed out yet.
    rest: Bytes,
}

impl OutboxBody {
    /// A body whose outbox holds at most `capacity` frames.
    pub fn new(capacity: usize, metrics: Arc<Metrics>) -> Self {
        let queued = metrics.outbox_frames.clone();
        let queue = Arc::new(OutboxQueue { queue: Mutex::default(), capacity: capacity.max(1), queued });
        Self { queue, metrics, deflate_up_to: 0, closed: false, rest: Bytes::new() }
    }

    /// Sends frames of `deflate::MIN_COMPRESSED` bytes and more compressed
    /// (the client negotiated permessage-deflate).
    pub fn deflate(self, on: bool) -> Self {
        self.deflate_up_to(if on { usize::MAX } else { 0 })
    }

    /// Sends compressed only frames of at most `len` bytes (a client that
    /// limited the server's window, `deflate::Agreed::max_compressed`).
    pub fn deflate_up_to(mut self, len: usize) -> Self {
        self.deflate_up_to = len;
        self
    }

    /// What goes on the wire for `frame`, and whether it is compressed.
    fn payload<'a>(&self, frame: &'a Frame) -> (&'a [u8], bool) {
        let wanted = frame.0.bytes.len() <= self.deflate_up_to;
        match frame.deflated().filter(|_| wanted) {
            Some(deflated) => (deflated, true),
            None => (&frame.0.bytes, false),
        }
    }

    /// The queue an `Outbox` pushes into.
    pub fn queue(&self) -> Arc<OutboxQueue> {
        self.queue.clone()
    }

    /// Frames everything queued into one chunk; `None` when nothing is.
    fn drain(&mut self, q: &mut Queue) -> Option<Bytes> {
        if !q.ping && q.pong.is_none() && q.frames.is_empty() && q.close.is_none() {
            return None;
        }
        // Frame headers are at most 10 bytes; ping, pong and close carry at
        // most 125 bytes each.
        let payload: usize = q.frames.iter().map(|f| self.payload(&f.frame).0.len()).sum();
        let mut buf = BytesMut::with_capacity(payload + 10 * q.frames.len() + 3 * 140);
        self.queue.queued.sub(q.frames.len() as i64);
        self.metrics.frames_sent.inc_by(q.frames.len() as u64);
        self.metrics.bytes_sent.inc_by(payload as u64);
        q.replacements = 0;
        if std::mem::take(&mut q.ping) {
            Parser::write_message(&mut buf, b"", OpCode::Ping, true, false);
        }
        if let Some(payload) = q.pong.take() {
            Parser::write_message(&mut buf, payload, OpCode::Pong, true, false);
        }
        for out in q.frames.drain(..) {
            let (payload, compressed) = self.payload(&out.frame);
            let start = buf.len();
            Parser::write_message(&mut buf, payload, out.frame.0.opcode, true, false);
            if compressed {
                // RSV1 marks a compressed message (RFC 7692 §6).
                buf[start] |= 0x40;
            }
            if let Some(d) = out.delivery {
                d.counters.succeeded.inc();
                let latency = d.committed_at.elapsed().as_secs_f64();
                self.metrics.delivery_seconds.observe(latency);
                d.counters.delivery_seconds.observe(latency);
            }
        }
        // A slow consumer's backlog is not kept as idle capacity.
        if q.frames.capacity() > 64 {
            q.frames.shrink_to_fit();
        }
        if let Some(reason) = q.close.take() {
            Parser::write_close(&mut buf, reason, false);
            q.finished = true;
            self.closed = true;
        }
        Some(buf.freeze())
    }
}

impl OutboxBody {
    /// The next at most `WRITE_CHUNK` bytes of `rest` (no copy).
    fn next_piece(&mut self) -> Bytes {
        let n = self.rest.len().min(WRITE_CHUNK);
        self.rest.split_to(n)
    }
}

impl MessageBody for OutboxBody {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Infallible>>> {
        let this = self.get_mut();
        if !this.rest.is_empty() {
            return Poll::Ready(Some(Ok(this.next_piece())));
        }
        if this.closed {
            return Poll::Ready(None);
        }
        let queue = this.queue.clone();
        let mut q = queue.lock();
        if this.deflate_up_to > 0 {
            let fresh: Vec<Frame> = q
                .frames
                .iter()
                .filter(|o| o.frame.needs_deflating() && o.frame.0.bytes.len() <= this.deflate_up_to)
                .map(|o| o.frame.clone())
                .collect();
            if !fresh.is_empty() {
                drop(q);
                for frame in &fresh {
                    frame.deflated();
                }
                q = queue.lock();
            }
        }
        match this.drain(&mut q) {
            Some(chunk) => {
                drop(q);
                this.rest = chunk;
                Poll::Ready(Some(Ok(this.next_piece())))
            }
            None => {
                if !q.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    q.waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

impl Drop for OutboxBody {
    fn drop(&mut self) {
        let mut q = self.queue.lock();
        q.finished = true;
        self.queue.queued.sub(q.frames.len() as i64);
        q.frames.clear();
        q.waker = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::EvictionSink;
    use futures_util::task::noop_waker_ref;

    fn poll(body: &mut OutboxBody) -> Poll<Option<Result<Bytes, Infallible>>> {
        Pin::new(body).poll_next(&mut std::task::Context::from_waker(noop_waker_ref()))
    }

    #[actix::test]
    async fn frames_go_out_in_order_in_one_chunk_and_overflow_is_refused() {
        let metrics = Metrics::new();
        let mut body = OutboxBody::new(2, metrics.clone());
        let outbox = Outbox::new(1, body.queue(), EvictionSink.start().recipient());
        assert!(poll(&mut body).is_pending());
        assert_eq!(outbox.push("a", "s1"), Pushed::Queued);
        assert_eq!(outbox.push("bc", "s1"), Pushed::Queued);
        assert_eq!(outbox.push("d", "s1"), Pushed::Overflowed);
        assert_eq!(metrics.outbox_frames.get(), 2);
        // A client pinging without reading gets one pong, for its latest ping.
        outbox.ping();
        outbox.ping();
        outbox.pong(Bytes::from_static(b"x"));
        outbox.pong(Bytes::from_static(b"y"));
        let Poll::Ready(Some(Ok(chunk))) = poll(&mut body) else { panic!("nothing written") };
        // Control frames go ahead of the queued frames.
        assert_eq!(&chunk[..], b"\x89\x00\x8a\x01y\x81\x01a\x81\x02bc");
        assert_eq!(metrics.outbox_frames.get(), 0);
        outbox.push("dropped", "s1");
        outbox.replace_queue(vec!["r".into()]);
        // A second eviction drops what came after the first, not its resync.
        outbox.push("dropped too", "s1");
        outbox.replace_queue(vec!["s".into()]);
        assert_eq!(metrics.outbox_frames.get(), 2);
        outbox.close(None);
        let Poll::Ready(Some(Ok(chunk))) = poll(&mut body) else { panic!("nothing written") };
        assert_eq!(&chunk[..], b"\x81\x01r\x81\x01s\x88\x00");
        assert!(matches!(poll(&mut body), Poll::Ready(None)));
        assert_eq!(outbox.push("late", "s1"), Pushed::Closed);
        assert_eq!(metrics.outbox_frames.get(), 0);
    }

    #[actix::test]
    async fn a_long_chunk_goes_out_in_pieces_the_dispatcher_buffer_holds() {
        let metrics = Metrics::new();
        let mut body = OutboxBody::new(4, metrics.clone());
        let outbox = Outbox::new(1, body.queue(), EvictionSink.start().recipient());
        let snapshot = "s".repeat(3 * WRITE_CHUNK);
        outbox.push(snapshot.as_str(), "s1");
        outbox.push("after", "s1");
        outbox.close(None);
        let mut framed = BytesMut::new();
        Parser::write_message(&mut framed, &snapshot, OpCode::Text, true, false);
        Parser::write_message(&mut framed, "after", OpCode::Text, true, false);
        Parser::write_close(&mut framed, None, false);
        let mut joined = BytesMut::new();
        while let Poll::Ready(Some(Ok(piece))) = poll(&mut body) {
            assert!(!piece.is_empty() && piece.len() <= WRITE_CHUNK);
            joined.extend_from_slice(&piece);
        }
        assert_eq!(joined, framed);
    }

    #[actix::test]
    async fn a_shared_frame_is_compressed_once_and_only_for_sockets_that_negotiated() {
        let metrics = Metrics::new();
        let sink = EvictionSink.start().recipient();
        let mut bodies = [false, true, true].map(|on| OutboxBody::new(4, metrics.clone()).deflate(on));
        let outboxes: Vec<Outbox> = bodies.iter().map(|b| Outbox::new(1, b.queue(), sink.clone())).collect();
        let text = format!("{{\"type\":\"page\",\"rows\":[{}]}}", "{\"name\":\"Alpine Jacket\"},".repeat(40));
        let page = Frame::from(text.as_str());
        for outbox in &outboxes {
            outbox.push(page.clone(), "s1");
            outbox.push("{\"type\":\"pong\"}", "s1");
        }
        let chunks: Vec<Bytes> = bodies
            .iter_mut()
            .map(|body| match poll(body) {
                Poll::Ready(Some(Ok(chunk))) => chunk,
                _ => panic!("nothing written"),
            })
            .collect();
        // Uncompressed: the text as it is, RSV1 clear.
        let mut plain = BytesMut::new();
        Parser::write_message(&mut plain, &text, OpCode::Text, true, false);
        Parser::write_message(&mut plain, "{\"type\":\"pong\"}", OpCode::Text, true, false);
        assert_eq!(chunks[0], plain);
        // Compressed: RSV1 on the page only, one payload for both sockets,
        // computed once and kept in the frame.
        assert_eq!(chunks[1], chunks[2]);
        let deflated = page.deflated().unwrap();
        assert!(deflated.len() < 126 && text.len() > 125);
        assert_eq!(chunks[1][..2], [0x80 | 0x40 | 0x01, deflated.len() as u8]);
        assert_eq!(&chunks[1][2..2 + deflated.len()], &deflated[..]);
        assert_eq!(&chunks[1][2 + deflated.len()..], &plain[4 + text.len()..]);
        assert_eq!(deflate::inflate(deflated.to_vec(), text.len()).unwrap(), text.as_bytes());
        // What went on the wire is counted: compressed where it was.
        assert_eq!(metrics.bytes_sent.get(), (text.len() + 15 + 2 * (deflated.len() + 15)) as u64);
    }
}
