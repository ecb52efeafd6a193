-- The flood breaker: messages per user in the current one-minute window.

ALTER TABLE users ADD COLUMN flood_window_start INTEGER;
ALTER TABLE users ADD COLUMN flood_count INTEGER NOT NULL DEFAULT 0;
