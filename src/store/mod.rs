//! The store side of the actor mesh: one supervised `StoreActor` per active
//! store (`actor`), found or started by the `StoreRegistry` (`registry`).
//! The actor's live state (`state`, `index`) changes only by applying
//! committed writes (`crate::model::change`); its messages are in `messages`.
//! `write_limit` is the per-principal budget every path that writes to a
//! store checks first.

pub mod actor;
pub mod fanout;
pub mod index;
pub mod kpis;
pub mod messages;
pub mod publish;
pub mod registry;
pub mod state;
pub mod subscribe;
pub mod write_limit;

pub use actor::{StoreActor, StoreSettings};
pub use registry::StoreRegistry;
pub use state::StoreMeta;
