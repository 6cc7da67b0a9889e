//! What operators need: Prometheus metrics (`metrics`), the sync-health
//! history and the server's own alert evaluation (`health`), early warnings
//! from trends (`predict`, fitted by `trend`), the sync performance time
//! series kept in the database (`analytics`), the daily health reports
//! (`report`), and the request id / request metrics middleware (`requests`).

pub mod analytics;
pub mod health;
pub mod metrics;
pub mod predict;
pub mod report;
pub mod requests;
pub mod trend;
