-- The same schema as migrations/sqlite, in PostgreSQL's words: the rowid
-- primary keys of SQLite are BIGSERIAL here. A migration lands in both folders
-- in the same commit.
CREATE TABLE stores (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    public BOOLEAN NOT NULL DEFAULT FALSE,
    seq BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE store_grants (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    store_id BIGINT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, store_id)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    store_ids TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE products (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    store_id BIGINT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    price BIGINT NOT NULL,
    stock BIGINT NOT NULL,
    status TEXT NOT NULL,
    image TEXT,
    views BIGINT NOT NULL DEFAULT 0,
    units_sold BIGINT NOT NULL DEFAULT 0,
    revenue BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (store_id, sku)
);

CREATE TABLE dashboard (
    store_id BIGINT PRIMARY KEY NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    visitors_today BIGINT NOT NULL DEFAULT 0,
    refunds_today BIGINT NOT NULL DEFAULT 0,
    revenue_target BIGINT NOT NULL DEFAULT 0,
    notice TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE sales (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    store_id BIGINT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    order_ref TEXT,
    amount BIGINT NOT NULL,
    lines TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    recorded_by TEXT NOT NULL,
    UNIQUE (store_id, order_ref)
);
CREATE INDEX sales_store_at ON sales (store_id, at);

CREATE TABLE daily_sales (
    store_id BIGINT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    orders BIGINT NOT NULL,
    units BIGINT NOT NULL,
    revenue BIGINT NOT NULL,
    PRIMARY KEY (store_id, day)
);

CREATE TABLE events (
    store_id BIGINT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    entity_id BIGINT,
    data TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    PRIMARY KEY (store_id, seq)
);

CREATE TABLE idempotency_keys (
    store_id BIGINT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    principal TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    seq BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (store_id, principal, key)
);
