-- The adaptive concurrency limit that assessment workers share per target
-- (review.TargetLimit): the AIMD state and, as a JSON array, the slots
-- each live worker process holds. One row per target, updated under its
-- row lock (review.Store.UpdateTargetLimit), so that worker processes on
-- one database never together exceed the limit. Times are TEXT as
-- elsewhere; NULL is none.
CREATE TABLE target_limits (
	target      TEXT PRIMARY KEY,
	limit_value DOUBLE PRECISION NOT NULL,
	max_slots   INTEGER NOT NULL,
	pause_until TEXT,
	last_cut    TEXT,
	leases      TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);
