//! The wire vocabulary both actors share: the v1 frames (`protocol`), a
//! session's bounded outbound queue (`outbox`), the size limit on what
//! clients send (`frame_limit`) and permessage-deflate (`deflate`,
//! `inflate_stream`). Store actors encode frames
//! and push them into outboxes directly; session actors parse client frames
//! and own the socket. Neither actor's module imports the other's: they
//! meet here.

pub mod deflate;
pub mod frame_limit;
pub mod inflate_stream;
pub mod outbox;
pub mod protocol;
