-- The responder: users, the inbound log, the notice outbox, quarantine and
-- paused numbers. Instants are Unix milliseconds.

CREATE TABLE users (
    id                 INTEGER PRIMARY KEY,
    phone_number_id    TEXT    NOT NULL,
    bsuid              TEXT,
    wa_id              TEXT,
    pseudonym          TEXT    NOT NULL,
    country            TEXT,
    profile_name       TEXT,
    chosen_locale      TEXT,
    opted_out          INTEGER NOT NULL DEFAULT 0,
    last_message_at    INTEGER,
    last_notice_at     INTEGER,
    last_notice_phase  TEXT,
    last_notice_locale TEXT,
    created_at         INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_by_bsuid ON users (phone_number_id, bsuid) WHERE bsuid IS NOT NULL;
CREATE UNIQUE INDEX users_by_wa_id ON users (phone_number_id, wa_id) WHERE wa_id IS NOT NULL;

CREATE TABLE inbound (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT    NOT NULL UNIQUE,
    received_at     INTEGER NOT NULL,
    message_sent_at INTEGER NOT NULL,
    phone_number_id TEXT    NOT NULL,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    inbound_type    TEXT    NOT NULL,
    country         TEXT,
    locale          TEXT    NOT NULL,
    locale_source   TEXT    NOT NULL,
    decision        TEXT    NOT NULL
);
CREATE INDEX inbound_by_received_at ON inbound (received_at);

CREATE TABLE notices (
    id                  INTEGER PRIMARY KEY,
    inbound_id          INTEGER NOT NULL UNIQUE REFERENCES inbound (id),
    user_id             INTEGER NOT NULL REFERENCES users (id),
    phone_number_id     TEXT    NOT NULL,
    kind                TEXT    NOT NULL,
    locale              TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    due_at              INTEGER NOT NULL,
    lease_until         INTEGER,
    attempts            INTEGER NOT NULL DEFAULT 0,
    phase               TEXT,
    days_left           INTEGER,
    template_version    TEXT,
    body                TEXT,
    outbound_message_id TEXT UNIQUE,
    error_code          INTEGER,
    error_title         TEXT,
    created_at          INTEGER NOT NULL,
    sent_at             INTEGER,
    delivered_at        INTEGER,
    read_at             INTEGER,
    clicks              INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notices_due ON notices (due_at) WHERE status IN ('queued', 'sending');

CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    body        BLOB    NOT NULL
);

CREATE TABLE paused_numbers (
    phone_number_id TEXT PRIMARY KEY,
    error_code      INTEGER,
    reason          TEXT    NOT NULL,
    paused_at       INTEGER NOT NULL,
    next_probe_at   INTEGER NOT NULL
);
