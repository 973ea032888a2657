-- A member's library: saved papers, their tags, tags' visibility.
CREATE TABLE library (
    user_id  BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    paper_id BIGINT NOT NULL REFERENCES papers (paper_id),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, paper_id)
);
CREATE INDEX library_added_idx ON library (user_id, added_at);

CREATE TABLE library_tags (
    user_id  BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    tag      TEXT   NOT NULL,
    paper_id BIGINT NOT NULL REFERENCES papers (paper_id),
    PRIMARY KEY (user_id, tag, paper_id)
);
CREATE INDEX library_tags_paper_idx ON library_tags (user_id, paper_id);

-- A tag is private until its owner makes it a public collection.
CREATE TABLE tags (
    user_id    BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    tag        TEXT   NOT NULL,
    public     BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, tag)
);

-- 👍 (1) and 👎 (-1) on recommendations.
CREATE TABLE rec_feedback (
    user_id    BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    paper_id   BIGINT NOT NULL REFERENCES papers (paper_id),
    value      BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, paper_id)
);

-- "Not interested": a category or an author (normalised name).
CREATE TABLE mutes (
    user_id    BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    kind       TEXT   NOT NULL,  -- category | author
    value      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind, value)
);

-- Follows: a paper (arXiv id), an author (normalised name), a saved search.
-- `state` is what the member was last told about (a paper's version and
-- code link), so an alert fires once per change.
CREATE TABLE follows (
    user_id    BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    kind       TEXT   NOT NULL,  -- paper | author | search
    target     TEXT   NOT NULL,
    state      TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind, target)
);
CREATE INDEX follows_target_idx ON follows (kind, target);

-- Private feed URLs: only the digest of the token is kept; revoked at once.
CREATE TABLE feed_tokens (
    token_hash TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX feed_tokens_user_idx ON feed_tokens (user_id);

-- An alert is written once per member and event.
ALTER TABLE notifications ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX notifications_dedupe_idx ON notifications (user_id, dedupe_key);
