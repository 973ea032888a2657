-- A member's picks start from their whole library's arXiv ids. Read
-- through `papers`, a 10,000-paper library cost 10,000 lookups scattered
-- over the largest table (most of a week's picks' time at 1M papers);
-- kept beside each saved paper, the ids come from one range of one
-- index. The id never changes once a paper has its row. Rows written by a
-- node still running the previous version have none, and are read
-- through `papers` as before.
ALTER TABLE library ADD COLUMN arxiv_id TEXT;
UPDATE library SET arxiv_id = (SELECT p.arxiv_id FROM papers p WHERE p.paper_id = library.paper_id);
DROP INDEX library_added_idx;
CREATE INDEX library_added_idx ON library (user_id, added_at, paper_id, arxiv_id);
-- Withdrawn papers leave libraries' picks: few, so a small index holds
-- them all.
CREATE INDEX papers_deleted_idx ON papers (paper_id) WHERE deleted_at IS NOT NULL;
