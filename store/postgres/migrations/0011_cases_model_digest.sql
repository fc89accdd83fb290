-- The public transparency page finds the logged decisions about a set of
-- weights by its digest (review.Service.PublicDecisionsForModel).
CREATE INDEX cases_model_digest ON cases (model_digest);
