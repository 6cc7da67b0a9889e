-- Per-store numbering of product and sale ids: a new id is the store's id
-- times 2^32 plus the store's next number of that kind, so ids never tell
-- one store's users how much another store created or sold. Ids issued
-- before this migration keep working.
CREATE TABLE id_counters (
    store_id BIGINT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    last BIGINT NOT NULL,
    PRIMARY KEY (store_id, kind)
);
