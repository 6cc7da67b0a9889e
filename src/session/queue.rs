//! A session's outbound path: the bounded `Outbox` that stores and the
//! session actor push encoded frames into, and the writer task that owns the
//! socket and drains it.
//!
//! Overflow policy, named: **drop and resync**. When a push finds the outbox
//! full, the pusher evicts the session (`Evicted { reason: SLOW_CONSUMER }`);
//! the session actor then tells the writer to drop everything queued and
//! send `resync` for each of its stores. One slow client therefore never
//! holds more than `capacity` frames, and never delays anybody else.
//!
//! Stores push into the outbox directly rather than through a
//! `Recipient<Frame>` and the session's mailbox: that is one queue fewer per
//! delivery on the hot path, and the bound is checked where fan-out happens.

use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use actix_ws::CloseReason;
use bytestring::ByteString;
use tokio::sync::mpsc;

use crate::ops::metrics::{Metrics, StoreCounters};

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

/// A frame in a session's queue.
pub struct Outgoing {
    pub frame: ByteString,
    pub delivery: Option<Delivery>,
}

/// The sending side of a session's bounded frame queue.
#[derive(Clone)]
pub struct Outbox {
    pub session: u64,
    tx: mpsc::Sender<Outgoing>,
    evict: Recipient<Evicted>,
}

impl Outbox {
    /// An outbox and the receiver its writer drains.
    pub fn new(session: u64, capacity: usize, evict: Recipient<Evicted>) -> (Self, mpsc::Receiver<Outgoing>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self { session, tx, evict }, rx)
    }

    /// Queues a frame without waiting; on overflow tells the session that
    /// `store` evicted it.
    pub fn push(&self, frame: ByteString, store: &str) -> Pushed {
        self.deliver(frame, None, store)
    }

    /// Queues a frame that carries committed changes, for delivery metrics.
    pub fn deliver(&self, frame: ByteString, delivery: Option<Delivery>, store: &str) -> Pushed {
        match self.tx.try_send(Outgoing { frame, delivery }) {
            Ok(()) => Pushed::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.evict.do_send(Evicted { store: store.to_owned(), reason: SLOW_CONSUMER });
                Pushed::Overflowed
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Pushed::Closed,
        }
    }

    /// Tells the session a store dropped it (restart, revocation).
    pub fn evict(&self, store: &str, reason: &'static str) {
        self.evict.do_send(Evicted { store: store.to_owned(), reason });
    }
}

/// Commands from the session actor to its writer, ahead of queued frames.
#[derive(Debug)]
pub enum Control {
    Ping,
    Pong(bytes::Bytes),
    /// Drop every queued frame, then send these.
    DropQueue(Vec<ByteString>),
    Close(Option<CloseReason>),
}

/// Writes one frame and counts it.
async fn send(ws: &mut actix_ws::Session, out: Outgoing, metrics: &Metrics) -> Result<(), actix_ws::Closed> {
    let len = out.frame.len() as u64;
    ws.text(out.frame).await?;
    metrics.frames_sent.inc();
    metrics.bytes_sent.inc_by(len);
    if let Some(d) = out.delivery {
        d.counters.succeeded.inc();
        metrics.delivery_seconds.observe(d.committed_at.elapsed().as_secs_f64());
    }
    Ok(())
}

/// Writes frames to the socket until told to close or the client is gone.
pub async fn run_writer(
    mut ws: actix_ws::Session,
    mut frames: mpsc::Receiver<Outgoing>,
    mut control: mpsc::UnboundedReceiver<Control>,
    metrics: Arc<Metrics>,
) {
    loop {
        let sent = tokio::select! {
            biased;
            command = control.recv() => match command {
                Some(Control::Ping) => ws.ping(b"").await,
                Some(Control::Pong(payload)) => ws.pong(&payload).await,
                Some(Control::DropQueue(replacements)) => {
                    while let Ok(dropped) = frames.try_recv() {
                        if let Some(d) = dropped.delivery {
                            d.counters.dropped.inc();
                        }
                    }
                    let mut result = Ok(());
                    for frame in replacements {
                        result = result.and(send(&mut ws, Outgoing { frame, delivery: None }, &metrics).await);
                    }
                    result
                }
                Some(Control::Close(reason)) => {
                    // What is already queued (an error explaining the close)
                    // goes out first; the queue is bounded.
                    while let Ok(out) = frames.try_recv() {
                        if send(&mut ws, out, &metrics).await.is_err() {
                            return;
                        }
                    }
                    let _ = ws.close(reason).await;
                    return;
                }
                None => break,
            },
            out = frames.recv() => match out {
                Some(out) => send(&mut ws, out, &metrics).await,
                None => break,
            },
        };
        if sent.is_err() {
            return;
        }
    }
    let _ = ws.close(None).await;
}
