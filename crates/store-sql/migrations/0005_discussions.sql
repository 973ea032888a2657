-- Discussions: comments and one level of replies, their history and votes.
CREATE TABLE comments (
    comment_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    paper_id   BIGINT NOT NULL REFERENCES papers (paper_id),
    parent_id  BIGINT REFERENCES comments (comment_id),
    author_id  BIGINT NOT NULL REFERENCES users (user_id),
    body       TEXT   NOT NULL,
    html       TEXT   NOT NULL,  -- rendered and sanitised once, when written
    created_at BIGINT NOT NULL,
    edited_at  BIGINT,
    deleted_at BIGINT,           -- by its author: the thread keeps a placeholder
    hidden_at  BIGINT,           -- by a moderator
    upvotes    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX comments_paper_idx ON comments (paper_id, comment_id);
CREATE INDEX comments_author_idx ON comments (author_id, created_at);

-- Every earlier body of an edited comment.
CREATE TABLE comment_revisions (
    comment_id BIGINT NOT NULL REFERENCES comments (comment_id),
    revised_at BIGINT NOT NULL,
    body       TEXT   NOT NULL
);
CREATE INDEX comment_revisions_idx ON comment_revisions (comment_id);

CREATE TABLE comment_votes (
    user_id    BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    comment_id BIGINT NOT NULL REFERENCES comments (comment_id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, comment_id)
);

-- A locked thread takes no new comments.
CREATE TABLE thread_locks (
    paper_id  BIGINT PRIMARY KEY REFERENCES papers (paper_id),
    locked_by BIGINT NOT NULL REFERENCES users (user_id),
    locked_at BIGINT NOT NULL
);

ALTER TABLE users ADD COLUMN suspended_until BIGINT;
-- Mail me when someone replies in a discussion I took part in.
ALTER TABLE users ADD COLUMN notify_replies BIGINT NOT NULL DEFAULT 0;

-- Members report a comment or a daily-list submission.
CREATE TABLE reports (
    report_id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT   NOT NULL,  -- comment | submission
    target_id   BIGINT NOT NULL,  -- the comment, or the submitted paper
    reporter_id BIGINT NOT NULL REFERENCES users (user_id),
    reason      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_by BIGINT REFERENCES users (user_id),
    resolution  TEXT
);
CREATE INDEX reports_open_idx ON reports (resolved_at, report_id);

-- The public log of every moderator action.
CREATE TABLE mod_log (
    entry_id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    moderator_id BIGINT NOT NULL REFERENCES users (user_id),
    action       TEXT   NOT NULL,
    target       TEXT   NOT NULL,  -- what it was done to, in words
    target_url   TEXT,
    reason       TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);

-- "I am author N of paper P", decided by a moderator.
CREATE TABLE author_claims (
    claim_id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    paper_id        BIGINT NOT NULL REFERENCES papers (paper_id),
    author_position BIGINT NOT NULL,
    user_id         BIGINT NOT NULL REFERENCES users (user_id),
    status          TEXT   NOT NULL DEFAULT 'pending',  -- pending | approved | declined
    created_at      BIGINT NOT NULL,
    decided_at      BIGINT,
    decided_by      BIGINT REFERENCES users (user_id),
    reason          TEXT
);
CREATE UNIQUE INDEX author_claims_key ON author_claims (paper_id, author_position, user_id);
CREATE INDEX author_claims_user_idx ON author_claims (user_id, status);

-- Links an approved author set (harvests never overwrite them).
ALTER TABLE papers ADD COLUMN claimed_github_repo TEXT;
ALTER TABLE papers ADD COLUMN project_page TEXT;

CREATE TABLE notifications (
    notification_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    kind            TEXT   NOT NULL,
    paper_id        BIGINT REFERENCES papers (paper_id),
    comment_id      BIGINT REFERENCES comments (comment_id),
    actor_id        BIGINT REFERENCES users (user_id),
    text            TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    read_at         BIGINT
);
CREATE INDEX notifications_user_idx ON notifications (user_id, notification_id);
