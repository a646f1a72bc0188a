-- One inbox for everything a third party sends us (SQLite dialect; keep in step with postgres).
-- A delivery is verified, recorded once by (source, external id), acknowledged, and then
-- processed with retries; items of one ordering key (a Slack team) run one at a time, in
-- the order they arrived (`id`).
CREATE TABLE inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL CHECK (source IN ('slack_event', 'slack_interaction', 'slack_command', 'stripe_event')),
    external_id TEXT NOT NULL,
    ordering_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- What was received, until it is processed (it may hold what people wrote).
    payload TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    -- Failed tries so far, and when the next may start.
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- The worker holding the item, until its lease ends.
    claimed_by TEXT,
    claimed_until INTEGER,
    processed_at INTEGER,
    -- Set when the retries ran out; `last_error` says why.
    gave_up_at INTEGER,
    last_error TEXT,
    UNIQUE (source, external_id)
);
CREATE INDEX inbox_open ON inbox (ordering_key, id) WHERE processed_at IS NULL AND gave_up_at IS NULL;
CREATE INDEX inbox_finished ON inbox (processed_at, gave_up_at);
-- Which keys a worker holds right now (few rows: runs in hand).
CREATE INDEX inbox_held ON inbox (ordering_key) WHERE claimed_by IS NOT NULL;

-- Events recorded by the previous release move over: processed ones keep guarding against
-- late retries, unprocessed ones are run by the new worker. An unprocessed one recorded
-- before payloads were kept has nothing to run: it moves over as given up, with the reason.
INSERT INTO inbox (source, external_id, ordering_key, kind, payload, received_at, next_attempt_at, processed_at,
                   gave_up_at, last_error)
SELECT 'slack_event', event_id, 'slack:' || COALESCE(slack_team_id, ''), event_type, payload, received_at,
       received_at, processed_at,
       CASE WHEN processed_at IS NULL AND payload = '' THEN received_at END,
       CASE WHEN processed_at IS NULL AND payload = '' THEN 'recorded before payloads were kept' END
FROM slack_events
ORDER BY received_at, event_id;
DROP TABLE slack_events;
