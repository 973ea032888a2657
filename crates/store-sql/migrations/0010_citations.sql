-- Full text: one row per paper fetched from arXiv's HTML (the version read,
-- how it went, its section titles as a JSON array; the text itself is not
-- kept: arXiv's licence allows indexing, not redistribution).
CREATE TABLE paper_texts (
    paper_id      BIGINT PRIMARY KEY REFERENCES papers (paper_id) ON DELETE CASCADE,
    version       BIGINT NOT NULL,
    status        TEXT   NOT NULL,
    last_modified TEXT,
    bytes         BIGINT NOT NULL,
    sections      TEXT   NOT NULL,
    fetched_at    BIGINT NOT NULL
);
CREATE INDEX paper_texts_fetched_at ON paper_texts (fetched_at);
-- The reference lists read from them: resolved to a paper of the store
-- (by arXiv id, arXiv's DOI, or title and year) or kept as text.
CREATE TABLE paper_references (
    citing_id BIGINT NOT NULL REFERENCES papers (paper_id) ON DELETE CASCADE,
    position  BIGINT NOT NULL,
    text      TEXT   NOT NULL,
    title     TEXT,
    arxiv_id  TEXT,
    doi       TEXT,
    year      BIGINT,
    cited_id  BIGINT REFERENCES papers (paper_id) ON DELETE SET NULL,
    context   TEXT,
    PRIMARY KEY (citing_id, position)
);
CREATE INDEX paper_references_cited ON paper_references (cited_id);
CREATE INDEX paper_references_waiting ON paper_references (arxiv_id) WHERE cited_id IS NULL;
-- Papers citing each one, kept with every change to the references.
ALTER TABLE papers ADD COLUMN citation_count BIGINT NOT NULL DEFAULT 0;
