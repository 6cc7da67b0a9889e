//! The client side of the actor mesh: one `SessionActor` per WebSocket
//! (`actor`). The frames it speaks and its bounded outbound queue are wire
//! vocabulary shared with the stores (`crate::wire`).

pub mod actor;

pub use actor::{SessionActor, SessionHandles, SessionLimits};
