-- Sync performance time series (ops::analytics): one row per node, store
-- ('' for the node's totals), metric and interval. Rows of a minute (or
-- the configured analytics interval) are rolled up into hours after a day
-- (step_secs 3600) and deleted after the retention.
CREATE TABLE sync_stats (
    node TEXT NOT NULL,
    store TEXT NOT NULL,
    metric TEXT NOT NULL,
    step_secs INTEGER NOT NULL,
    at TIMESTAMP NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (node, store, metric, step_secs, at)
);
CREATE INDEX sync_stats_by_metric ON sync_stats (metric, store, at);

-- Daily health reports (ops::report), one per UTC day: the key makes the
-- nodes of a cluster agree on one.
CREATE TABLE health_reports (
    day TEXT PRIMARY KEY NOT NULL,
    generated_at TIMESTAMP NOT NULL,
    node TEXT NOT NULL,
    report TEXT NOT NULL
);
