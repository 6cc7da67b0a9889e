-- Custom KPIs per store (model::kpi): the definition as JSON, one per name.
CREATE TABLE kpis (
    store_id BIGINT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    defined_by TEXT NOT NULL,
    defined_at TIMESTAMP NOT NULL,
    PRIMARY KEY (store_id, name)
);
