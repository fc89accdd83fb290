-- The response cache now holds responses sealed with the service's age
-- identity (review.Service.PutCachedResponse). Rows written before were
-- plaintext model answers, harmful ones included: a cache may be emptied
-- at any time (a miss only repeats a model call), so they are deleted.
-- The store runs with secure_delete, so the freed pages are zeroed.
DELETE FROM response_cache;
