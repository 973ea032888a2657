-- GitHub repositories linked from papers, and their stars day by day.
CREATE TABLE github_repos (
    url           TEXT   PRIMARY KEY,  -- https://github.com/owner/name, as papers link it
    etag          TEXT,
    stars         BIGINT,
    status        TEXT   NOT NULL DEFAULT 'new',  -- new | ok | moved | gone
    moved_to      TEXT,
    fetched_at    BIGINT,
    next_fetch_at BIGINT NOT NULL DEFAULT 0,
    failures      BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT
);
CREATE INDEX github_repos_due_idx ON github_repos (next_fetch_at);

CREATE TABLE github_star_snapshots (
    url   TEXT   NOT NULL,
    day   TEXT   NOT NULL,
    stars BIGINT NOT NULL,
    PRIMARY KEY (url, day)
);

CREATE INDEX papers_github_repo_idx ON papers (github_repo);
CREATE INDEX papers_claimed_github_repo_idx ON papers (claimed_github_repo);
