-- The responder: users, the inbound log, the notice outbox, quarantine and
-- paused numbers. Instants are Unix milliseconds (BIGINT), as on SQLite, so
-- both stores share one set of Rust types. Every integer the code reads as
-- i64 is BIGINT: sqlx refuses to decode an INTEGER column into an i64.

CREATE TABLE users (
    id                 BIGSERIAL PRIMARY KEY,
    phone_number_id    TEXT    NOT NULL,
    bsuid              TEXT,
    wa_id              TEXT,
    pseudonym          TEXT    NOT NULL,
    country            TEXT,
    profile_name       TEXT,
    chosen_locale      TEXT,
    opted_out          BOOLEAN NOT NULL DEFAULT FALSE,
    last_message_at    BIGINT,
    last_notice_at     BIGINT,
    last_notice_phase  TEXT,
    last_notice_locale TEXT,
    created_at         BIGINT  NOT NULL
);
CREATE UNIQUE INDEX users_by_bsuid ON users (phone_number_id, bsuid) WHERE bsuid IS NOT NULL;
CREATE UNIQUE INDEX users_by_wa_id ON users (phone_number_id, wa_id) WHERE wa_id IS NOT NULL;

CREATE TABLE inbound (
    id              BIGSERIAL PRIMARY KEY,
    message_id      TEXT    NOT NULL UNIQUE,
    received_at     BIGINT  NOT NULL,
    message_sent_at BIGINT  NOT NULL,
    phone_number_id TEXT    NOT NULL,
    user_id         BIGINT  NOT NULL REFERENCES users (id),
    inbound_type    TEXT    NOT NULL,
    country         TEXT,
    locale          TEXT    NOT NULL,
    locale_source   TEXT    NOT NULL,
    decision        TEXT    NOT NULL
);
CREATE INDEX inbound_by_received_at ON inbound (received_at);

CREATE TABLE notices (
    id                  BIGSERIAL PRIMARY KEY,
    inbound_id          BIGINT  NOT NULL UNIQUE REFERENCES inbound (id),
    user_id             BIGINT  NOT NULL REFERENCES users (id),
    phone_number_id     TEXT    NOT NULL,
    kind                TEXT    NOT NULL,
    locale              TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    due_at              BIGINT  NOT NULL,
    lease_until         BIGINT,
    attempts            BIGINT  NOT NULL DEFAULT 0,
    phase               TEXT,
    days_left           BIGINT,
    template_version    TEXT,
    body                TEXT,
    outbound_message_id TEXT UNIQUE,
    error_code          BIGINT,
    error_title         TEXT,
    created_at          BIGINT  NOT NULL,
    sent_at             BIGINT,
    delivered_at        BIGINT,
    read_at             BIGINT,
    clicks              BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX notices_due ON notices (due_at) WHERE status IN ('queued', 'sending');

CREATE TABLE quarantine (
    id          BIGSERIAL PRIMARY KEY,
    received_at BIGINT  NOT NULL,
    reason      TEXT    NOT NULL,
    body        BYTEA   NOT NULL
);

CREATE TABLE paused_numbers (
    phone_number_id TEXT PRIMARY KEY,
    error_code      BIGINT,
    reason          TEXT    NOT NULL,
    paused_at       BIGINT  NOT NULL,
    next_probe_at   BIGINT  NOT NULL
);
