-- Locale sets published with `sunset locales publish`: every box serves
-- the newest one.

CREATE TABLE locale_sets (
    id           BIGSERIAL PRIMARY KEY,
    version      TEXT    NOT NULL,
    published_at BIGINT  NOT NULL,
    files        TEXT    NOT NULL
);
