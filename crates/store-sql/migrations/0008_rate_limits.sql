-- Rate limits counted where every node sees them: one row per action and
-- client per fixed window, pruned once expired.
CREATE TABLE rate_counts (
    key          TEXT   NOT NULL,
    window_start BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_counts_expires ON rate_counts (expires_at);
