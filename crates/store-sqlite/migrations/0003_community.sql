CREATE TABLE users (
    user_id       INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL DEFAULT 'member',
    created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (username);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE votes (
    user_id    INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    paper_id   INTEGER NOT NULL REFERENCES papers (paper_id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, paper_id)
);
CREATE INDEX votes_paper_idx ON votes (paper_id);

-- A paper is on one day's list at most.
CREATE TABLE daily_submissions (
    paper_id     INTEGER PRIMARY KEY REFERENCES papers (paper_id),
    day          TEXT    NOT NULL,
    submitted_by INTEGER NOT NULL REFERENCES users (user_id),
    submitted_at INTEGER NOT NULL
);
CREATE INDEX daily_submissions_day_idx ON daily_submissions (day);
CREATE INDEX daily_submissions_user_idx ON daily_submissions (submitted_by);

ALTER TABLE papers ADD COLUMN trending_score REAL NOT NULL DEFAULT 0;
CREATE INDEX papers_trending_idx ON papers (trending_score DESC, published_at DESC);
