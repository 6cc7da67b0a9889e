-- The audit trail filters a store's events by entity and by time; without
-- these it scanned the store's events in seq order to find them. The
-- time index carries the seq: a time range becomes a seq range from the
-- index alone.
CREATE INDEX events_by_entity ON events (store_id, entity_id, seq);
CREATE INDEX events_by_time ON events (store_id, at, seq);
