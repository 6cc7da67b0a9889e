//! What operators need: Prometheus metrics (`metrics`), the sync-health
//! history and the server's own alert evaluation (`health`), custom KPI
//! alerts (`kpi_watch`), and the request
//! id / request metrics middleware (`requests`).

pub mod health;
pub mod kpi_watch;
pub mod metrics;
pub mod requests;
