CREATE TABLE subscribers (
    subscriber_id   INTEGER PRIMARY KEY,
    email           TEXT    NOT NULL,
    frequency       TEXT    NOT NULL,            -- daily | weekly
    trending_top    INTEGER NOT NULL DEFAULT 0,  -- top N trending papers, 0 = none
    daily_list      INTEGER NOT NULL DEFAULT 0,  -- the daily list
    categories      TEXT    NOT NULL DEFAULT '', -- space separated
    queries         TEXT    NOT NULL DEFAULT '', -- saved searches, one per line
    confirmed_at    INTEGER,
    unsubscribed_at INTEGER,
    disabled_at     INTEGER,                     -- stopped after repeated bounces
    bounces         INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX subscribers_email_key ON subscribers (email);

-- Papers already sent to a subscriber: never sent twice.
CREATE TABLE digest_papers (
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (subscriber_id) ON DELETE CASCADE,
    paper_id      INTEGER NOT NULL,
    PRIMARY KEY (subscriber_id, paper_id)
);

-- Every outgoing message, complete and ready to send; one row per key.
CREATE TABLE outbox (
    outbox_id       INTEGER PRIMARY KEY,
    dedupe_key      TEXT    NOT NULL,
    subscriber_id   INTEGER,
    recipient       TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending', -- pending | sent | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE UNIQUE INDEX outbox_dedupe_key ON outbox (dedupe_key);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);
