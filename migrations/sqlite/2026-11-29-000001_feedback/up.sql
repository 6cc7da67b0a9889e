-- In-app feedback about sync: a rating, a comment and the page's sync
-- statistics (JSON), per store; listed by the store's admins, newest first.
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY NOT NULL,
    store_id BIGINT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    sent_by TEXT NOT NULL,
    rating BIGINT NOT NULL,
    comment TEXT NOT NULL,
    stats TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX feedback_by_store ON feedback (store_id, id);
