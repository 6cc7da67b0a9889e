-- Managing stores and people from the admin: archived stores (read-only,
-- hidden from non-admins), disabled users (no login, no sessions, no
-- tokens), and the audit log of admin changes (who, what, when).
ALTER TABLE stores ADD COLUMN archived BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
