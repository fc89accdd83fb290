-- People assigned to a case (JSON array of user ids).
ALTER TABLE cases ADD COLUMN assignees TEXT NOT NULL DEFAULT '[]';
