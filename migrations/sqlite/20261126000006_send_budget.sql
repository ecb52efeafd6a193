-- The send budget of each business number, shared by every box: the next
-- free send slot, in Unix microseconds.

CREATE TABLE send_budget (
    phone_number_id TEXT   PRIMARY KEY,
    next_slot_us    BIGINT NOT NULL
);

-- The sender spaces one user's notices (WhatsApp's pair rate limit).
CREATE INDEX notices_by_user ON notices (user_id);
