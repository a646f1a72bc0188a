-- Which kind of post shows a shared answer (PostgreSQL dialect; keep in step with sqlite).
-- The post at shared_channel_id/shared_ts is rebuilt as it was written when its answer is
-- edited or taken back: the answer's own post, a "Meet X" introduction quoting it, or a daily
-- digest listing it among others.
ALTER TABLE answers ADD COLUMN shared_as TEXT NOT NULL DEFAULT 'answer' CHECK (shared_as IN ('answer', 'introduction', 'digest'));
