-- The risks a person was shown when asked to approve (comma-separated codes); approving
-- acknowledges them, and execution asks again for any risk seen since.
ALTER TABLE approvals ADD COLUMN risks TEXT NOT NULL DEFAULT '';
