-- Named product-table views per store (model::saved_view), one per name.
CREATE TABLE saved_views (
    store_id BIGINT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    view TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at TIMESTAMP NOT NULL,
    PRIMARY KEY (store_id, name)
);
