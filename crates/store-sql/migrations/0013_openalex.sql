-- Papers without a full text of their own can get their references and a
-- cited-by count from a catalogue (OpenAlex): the count is kept beside the
-- fetch's state (`citation_count` stays the count of papers here).
ALTER TABLE paper_texts ADD COLUMN cited_elsewhere BIGINT;
