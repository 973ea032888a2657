-- Store-wide counters; `change_seq` is bumped by every write. Writers take
-- this row's lock while they reserve numbers, so sequence order is commit
-- order and a follower never skips a late commit.
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO store_meta (key, value) VALUES ('change_seq', 0);

CREATE TABLE papers (
    paper_id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    arxiv_id       TEXT    NOT NULL,
    title          TEXT    NOT NULL,
    abstract       TEXT    NOT NULL,
    authors        TEXT    NOT NULL,
    categories     TEXT    NOT NULL,
    versions       TEXT    NOT NULL,
    latest_version BIGINT  NOT NULL,
    comments       TEXT,
    journal_ref    TEXT,
    doi            TEXT,
    report_no      TEXT,
    license        TEXT,
    submitter      TEXT,
    updated_on     TEXT,
    code_links     TEXT    NOT NULL,
    github_repo    TEXT,
    published_at   BIGINT  NOT NULL,
    content_hash   BIGINT  NOT NULL,
    change_seq     BIGINT  NOT NULL,
    created_at     BIGINT  NOT NULL,
    deleted_at     BIGINT,
    upvotes        BIGINT  NOT NULL DEFAULT 0,
    num_comments   BIGINT  NOT NULL DEFAULT 0,
    github_stars   BIGINT,
    CONSTRAINT papers_arxiv_id_key UNIQUE (arxiv_id),
    CONSTRAINT papers_change_seq_key UNIQUE (change_seq)
);
CREATE INDEX papers_published_at_idx ON papers (published_at);
