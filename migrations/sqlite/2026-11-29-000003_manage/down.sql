DROP TABLE audit_log;
ALTER TABLE users DROP COLUMN disabled;
ALTER TABLE stores DROP COLUMN archived;
