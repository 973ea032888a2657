-- Store-wide counters; `change_seq` is bumped by every write.
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO store_meta (key, value) VALUES ('change_seq', 0);

CREATE TABLE papers (
    paper_id       INTEGER PRIMARY KEY,
    arxiv_id       TEXT    NOT NULL,
    title          TEXT    NOT NULL,
    abstract       TEXT    NOT NULL,
    authors        TEXT    NOT NULL,  -- JSON array of names, in order
    categories     TEXT    NOT NULL,  -- space separated, primary first
    versions       TEXT    NOT NULL,  -- JSON [{v, at}]
    latest_version INTEGER NOT NULL,
    comments       TEXT,
    journal_ref    TEXT,
    doi            TEXT,
    report_no      TEXT,
    license        TEXT,
    submitter      TEXT,
    updated_on     TEXT,
    code_links     TEXT    NOT NULL,  -- JSON [{kind, url}]
    github_repo    TEXT,
    published_at   INTEGER NOT NULL,  -- unix seconds
    content_hash   INTEGER NOT NULL,
    change_seq     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    deleted_at     INTEGER,
    upvotes        INTEGER NOT NULL DEFAULT 0,
    num_comments   INTEGER NOT NULL DEFAULT 0,
    github_stars   INTEGER
);
CREATE UNIQUE INDEX papers_arxiv_id_key ON papers (arxiv_id);
CREATE UNIQUE INDEX papers_change_seq_key ON papers (change_seq);
CREATE INDEX papers_published_at_idx ON papers (published_at);
