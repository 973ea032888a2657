-- The library watch: what happened to a paper that readers keep (a new
-- version with the text it replaced, a withdrawal, code released, its
-- sections changed, a paper citing it), written once per paper by the
-- transaction that saw it, then told to each reader who saved or follows
-- the paper (once per reader, through notifications' dedupe keys).
-- Every writer holds the change-sequence lock, so ids become visible in
-- order and a cursor over them misses nothing.
CREATE TABLE paper_events (
    event_id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    paper_id     BIGINT NOT NULL REFERENCES papers (paper_id) ON DELETE CASCADE,
    kind         TEXT   NOT NULL,  -- version | withdrawn | code | sections | cited
    version      BIGINT,
    old_title    TEXT,
    old_abstract TEXT,
    detail       TEXT,             -- code: the repository; sections: a JSON array
    citing_id    BIGINT REFERENCES papers (paper_id) ON DELETE CASCADE,
    context      TEXT,
    created_at   BIGINT NOT NULL
);
-- Who keeps a paper: the watch reads the library by paper.
CREATE INDEX library_paper_idx ON library (paper_id, user_id);
-- Each section's title and a hash of its text, to name the sections a new
-- version changed.
ALTER TABLE paper_texts ADD COLUMN section_hashes TEXT NOT NULL DEFAULT '[]';
