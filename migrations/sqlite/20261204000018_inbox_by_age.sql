-- The inbox's open items by age (sqlite dialect; keep in step with postgres).
--
-- A claim first looks for the oldest open item of each workspace among the oldest open items
-- (`db::inbox::claim`), instead of grouping the whole backlog on every claim: with 100,000
-- events waiting, that grouping cost more than the events' own work. This index hands out
-- the oldest open items in id order without reading the rest (SQLite finds them through
-- `inbox_finished` as well; PostgreSQL's plan depends on its statistics).
CREATE INDEX inbox_open_by_age ON inbox (id) WHERE processed_at IS NULL AND gave_up_at IS NULL;
