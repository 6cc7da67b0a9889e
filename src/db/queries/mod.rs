//! Named queries, one file per table or concern. Every function takes a
//! connection and is called on the blocking pool (see `db::blocking`).

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod commit;
pub mod events;
pub mod export;
pub mod feedback;
pub mod ids;
pub mod kpis;
pub mod products;
pub mod sales;
pub mod saved_views;
pub mod scheduled;
pub mod store_settings;
pub mod stores;
pub mod sync_stats;
