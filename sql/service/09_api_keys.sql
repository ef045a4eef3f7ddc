-- Makes: api_keys — the keys the service knows besides its own token: a name, the SHA-256 of the
-- key (never the key itself), the groups whose stores it reads (NULL: every store), whether it
-- may append (`can_write`) and whether it may do everything (`is_admin`). A revoked key keeps
-- its row, with `revoked_at`, and reads nothing. Never copied to the analysts' Parquet files.
-- Created if missing each time the service starts, and by `storemon keys`.
-- Needs: nothing (the service makes it in its own database file).

CREATE TABLE IF NOT EXISTS api_keys (
    name VARCHAR NOT NULL,
    key_hash VARCHAR NOT NULL,
    groups VARCHAR[],
    can_write BOOLEAN NOT NULL,
    is_admin BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
