//! The store side of the actor mesh: one supervised `StoreActor` per active
//! store (`actor`), found or started by the `StoreRegistry` (`registry`).
//! The actor's live state (`state`, `index`) changes only by applying
//! committed writes (`crate::model::change`); its messages are in `messages`.
//! `write_limit` is the per-principal budget every path that writes to a
//! store checks first; `scheduler` hands due scheduled changes to the stores.
//! `consistency` answers digest requests and `topics` changes a subscriber's
//! topics (selective sync). `kpis` answers the custom KPIs' inputs and
//! `kpi_watch` raises breached KPIs as alerts.

pub mod actor;
pub mod consistency;
pub mod fanout;
pub mod index;
pub mod kpi_watch;
pub mod kpis;
pub mod messages;
pub mod publish;
pub mod registry;
pub mod scheduler;
pub mod state;
pub mod subscribe;
pub mod topics;
pub mod write_limit;

pub use actor::{StoreActor, StoreSettings};
pub use registry::StoreRegistry;
pub use state::StoreMeta;
