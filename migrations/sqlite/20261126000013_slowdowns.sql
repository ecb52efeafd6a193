-- After a 131048 (spam rate limit) a business number sends at half its
-- rate for a while, on every box: the end of that while, in Unix
-- microseconds, beside the number's next free send slot.

ALTER TABLE send_budget ADD COLUMN slowed_until_us INTEGER;
