//! The wire vocabulary both actors share: the v1 frames (`protocol`), a
//! session's bounded outbound queue (`outbox`) and the size limit on what
//! clients send (`frame_limit`). Store actors encode frames
//! and push them into outboxes directly; session actors parse client frames
//! and own the socket. Neither actor's module imports the other's: they
//! meet here.

pub mod frame_limit;
pub mod outbox;
pub mod protocol;
