-- The message ids of people erased with `forget --user`, kept while Meta
-- may still retry them (7 days, then `purge` drops them), so that a retry
-- is known as one and not answered again. Nothing else of the person stays.
CREATE TABLE forgotten_messages (
    message_id  TEXT    PRIMARY KEY,
    received_at INTEGER NOT NULL
) WITHOUT ROWID;
