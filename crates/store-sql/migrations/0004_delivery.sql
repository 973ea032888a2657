CREATE TABLE subscribers (
    subscriber_id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email           TEXT    NOT NULL,
    frequency       TEXT    NOT NULL,            -- daily | weekly
    trending_top    BIGINT NOT NULL DEFAULT 0,  -- top N trending papers, 0 = none
    daily_list      BIGINT NOT NULL DEFAULT 0,  -- the daily list
    categories      TEXT    NOT NULL DEFAULT '', -- space separated
    queries         TEXT    NOT NULL DEFAULT '', -- saved searches, one per line
    confirmed_at    BIGINT,
    unsubscribed_at BIGINT,
    disabled_at     BIGINT,                     -- stopped after repeated bounces
    bounces         BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX subscribers_email_key ON subscribers (email);

-- Papers already sent to a subscriber: never sent twice.
CREATE TABLE digest_papers (
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (subscriber_id) ON DELETE CASCADE,
    paper_id      BIGINT NOT NULL,
    PRIMARY KEY (subscriber_id, paper_id)
);

-- Every outgoing message, complete and ready to send; one row per key.
CREATE TABLE outbox (
    outbox_id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedupe_key      TEXT    NOT NULL,
    subscriber_id   BIGINT,
    recipient       TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending', -- pending | sent | failed
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE UNIQUE INDEX outbox_dedupe_key ON outbox (dedupe_key);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);
