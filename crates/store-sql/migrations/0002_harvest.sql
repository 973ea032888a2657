CREATE TABLE harvest_checkpoints (
    set_spec          TEXT PRIMARY KEY,
    last_datestamp    TEXT,
    run_from          TEXT,
    resumption_token  TEXT,
    run_max_datestamp TEXT,
    updated_at        BIGINT NOT NULL
);

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at BIGINT NOT NULL
);
