DROP INDEX events_by_time;
DROP INDEX events_by_entity;
