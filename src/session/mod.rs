//! The client side of the actor mesh: one `SessionActor` per WebSocket
//! (`actor`), the v1 frames it speaks (`protocol`), and its bounded outbound
//! queue with the drop-and-resync overflow policy (`queue`).

pub mod actor;
pub mod protocol;
pub mod queue;

pub use actor::{SessionActor, SessionLimits};
