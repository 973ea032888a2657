-- Search inside papers: the paragraphs of each read full text, kept as
-- passages for the keyword index's passage field (and its snippets; the
-- pages show snippets only, never whole passages). A parsed page replaces
-- its paper's passages and takes a number from the change sequence, so
-- the passage index follows `text_seq` as the paper index follows
-- `change_seq`.
CREATE TABLE paper_passages (
    paper_id BIGINT NOT NULL REFERENCES papers (paper_id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    section  TEXT   NOT NULL,
    text     TEXT   NOT NULL,
    PRIMARY KEY (paper_id, position)
);
ALTER TABLE paper_texts ADD COLUMN text_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX paper_texts_seq ON paper_texts (text_seq);
