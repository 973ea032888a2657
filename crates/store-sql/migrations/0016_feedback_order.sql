-- The order a member gave their ratings in. `created_at` is in whole
-- seconds, and ratings given within one second came back in paper order:
-- the recommender reads the newest 👎 first and learns from them in that
-- order, so the same ratings gave a reader a different model depending on
-- where a second boundary fell. `seq` counts each member's ratings (a
-- rating changed later moves to the end, as its time does); rows from
-- before it keep 0 and their times.
ALTER TABLE rec_feedback ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
