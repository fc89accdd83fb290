-- The circuit breaker of webhook deliveries (package webhook): consecutive
-- failed deliveries, the kind and time of the last failure, and until when
-- a webhook that kept failing is paused (NULL: not paused).
ALTER TABLE webhooks ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN last_failure_at TEXT;
ALTER TABLE webhooks ADD COLUMN paused_until TEXT;
