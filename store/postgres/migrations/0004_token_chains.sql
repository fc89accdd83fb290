-- Token chains (issue 10): a token minted with another token records its
-- parent; revoking a token revokes its descendants (the store walks
-- parent_id), and a user's tokens are listed by user.
ALTER TABLE tokens ADD COLUMN parent_id TEXT REFERENCES tokens (id);
CREATE INDEX tokens_parent ON tokens (parent_id);
CREATE INDEX tokens_user ON tokens (user_id, id);
