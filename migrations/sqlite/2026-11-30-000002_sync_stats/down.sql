DROP TABLE health_reports;
DROP TABLE sync_stats;
