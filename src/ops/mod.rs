//! What operators need: Prometheus metrics (`metrics`), the sync-health
//! history and the server's own alert evaluation (`health`), and the request
//! id / request metrics middleware (`requests`).

pub mod health;
pub mod metrics;
pub mod requests;
