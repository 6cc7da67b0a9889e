-- Changes an editor scheduled for a time (model::schedule): the change as
-- JSON, who scheduled it (re-checked when it is due), and its lifecycle.
-- Applied by the store's group commit, which moves a row out of 'pending'
-- in the same transaction as the change itself.
CREATE TABLE scheduled_changes (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    store_id BIGINT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    change TEXT NOT NULL,
    due_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    token_id BIGINT,
    status TEXT NOT NULL,
    late BOOLEAN NOT NULL,
    reason TEXT,
    message TEXT,
    applied_seq BIGINT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- What the scheduler of every node polls: pending rows by due time.
CREATE INDEX scheduled_changes_due ON scheduled_changes (status, due_at);
CREATE INDEX scheduled_changes_by_store ON scheduled_changes (store_id, id);
