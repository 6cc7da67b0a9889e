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

use actix::prelude::*;
use actix_ws::CloseReason;
use bytestring::ByteString;
use tokio::sync::mpsc;

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

/// The sending side of a session's bounded frame queue.
#[derive(Clone)]
pub struct Outbox {
    pub session: u64,
    tx: mpsc::Sender<ByteString>,
    evict: Recipient<Evicted>,
}

impl Outbox {
    /// An outbox and the receiver its writer drains.
    pub fn new(
        session: u64,
        capacity: usize,
        evict: Recipient<Evicted>,
    ) -> (Self, mpsc::Receiver<ByteString>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self { session, tx, evict }, rx)
    }

    /// Queues a frame without waiting; on overflow tells the session that
    /// `store` evicted it.
    pub fn push(&self, frame: ByteString, store: &str) -> Pushed {
        match self.tx.try_send(frame) {
            Ok(()) => Pushed::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.evict.do_send(Evicted {
                    store: store.to_owned(),
                    reason: SLOW_CONSUMER,
                });
                Pushed::Overflowed
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Pushed::Closed,
        }
    }

    /// Tells the session a store dropped it (restart, revocation).
    pub fn evict(&self, store: &str, reason: &'static str) {
        self.evict.do_send(Evicted {
            store: store.to_owned(),
            reason,
        });
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

/// Writes frames to the socket until told to close or the client is gone.
pub async fn run_writer(
    mut ws: actix_ws::Session,
    mut frames: mpsc::Receiver<ByteString>,
    mut control: mpsc::UnboundedReceiver<Control>,
) {
    loop {
        let sent = tokio::select! {
            biased;
            command = control.recv() => match command {
                Some(Control::Ping) => ws.ping(b"").await,
                Some(Control::Pong(payload)) => ws.pong(&payload).await,
                Some(Control::DropQueue(replacements)) => {
                    while frames.try_recv().is_ok() {}
                    let mut result = Ok(());
                    for frame in replacements {
                        result = result.and(ws.text(frame).await);
                    }
                    result
                }
                Some(Control::Close(reason)) => {
                    // What is already queued (an error explaining the close)
                    // goes out first; the queue is bounded.
                    while let Ok(frame) = frames.try_recv() {
                        if ws.text(frame).await.is_err() {
                            return;
                        }
                    }
                    let _ = ws.close(reason).await;
                    return;
                }
                None => break,
            },
            frame = frames.recv() => match frame {
                Some(frame) => ws.text(frame).await,
                None => break,
            },
        };
        if sent.is_err() {
            return;
        }
    }
    let _ = ws.close(None).await;
}
