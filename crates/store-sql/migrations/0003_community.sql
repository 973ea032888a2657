CREATE TABLE users (
    user_id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT   NOT NULL,
    email         TEXT   NOT NULL,
    password_hash TEXT   NOT NULL,
    role          TEXT   NOT NULL DEFAULT 'member',
    created_at    BIGINT NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE sessions (
    token_hash TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    token_hash TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE votes (
    user_id    BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    paper_id   BIGINT NOT NULL REFERENCES papers (paper_id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, paper_id)
);
CREATE INDEX votes_paper_idx ON votes (paper_id);

CREATE TABLE daily_submissions (
    paper_id     BIGINT PRIMARY KEY REFERENCES papers (paper_id),
    day          TEXT   NOT NULL,
    submitted_by BIGINT NOT NULL REFERENCES users (user_id),
    submitted_at BIGINT NOT NULL,
    CONSTRAINT daily_submissions_paper_key UNIQUE (paper_id)
);
CREATE INDEX daily_submissions_day_idx ON daily_submissions (day);
CREATE INDEX daily_submissions_user_idx ON daily_submissions (submitted_by);

ALTER TABLE papers ADD COLUMN trending_score DOUBLE PRECISION NOT NULL DEFAULT 0;
CREATE INDEX papers_trending_idx ON papers (trending_score DESC, published_at DESC);
