//! The wire vocabulary both actors share: the v1 frames (`protocol`) and a
//! session's bounded outbound queue (`outbox`). Store actors encode frames
//! and push them into outboxes directly; session actors parse client frames
//! and own the socket. Neither actor's module imports the other's: they
//! meet here.

pub mod outbox;
pub mod protocol;
