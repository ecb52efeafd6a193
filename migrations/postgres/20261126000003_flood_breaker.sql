-- The flood breaker: messages per user in the current one-minute window.

ALTER TABLE users ADD COLUMN flood_window_start BIGINT;
ALTER TABLE users ADD COLUMN flood_count BIGINT NOT NULL DEFAULT 0;
