-- Bulk loads into a small store drop the papers table's secondary indexes
-- and build them again at the end (one build is far cheaper than a
-- million ordered inserts). Each dropped index's definition waits here,
-- written in the same transaction as the drop, so an import killed midway
-- leaves its indexes to whoever opens the store next.
CREATE TABLE deferred_indexes (
    name       TEXT PRIMARY KEY,
    definition TEXT NOT NULL
);
