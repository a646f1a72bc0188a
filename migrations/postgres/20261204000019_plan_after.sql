-- Rounds are planned from each workspace's next due time (postgres dialect; keep in step
-- with sqlite).
--
-- `plan_after` is the earliest time (product clock, ms) anyone in the workspace may next be
-- due, as the planner last worked it out; NULL means "plan at the next pass". The planner
-- visits only workspaces whose time has come, so with nothing due a thousand installed
-- workspaces cost one small query a second instead of two queries each.
--
-- Whatever changes who may be due (a member's row, the schedule, the workspace's asking
-- settings, an open question closing, billing) clears `plan_after` and counts a change in
-- `plan_changes`, here in triggers, so no code path and no other instance can forget it.
-- A planner first claims the workspace, setting `plan_after` to a short hold
-- (`db::workspaces::claim_planning`), and writes its result only while `plan_changes` is
-- what the claim read (`set_plan_after`): a change made while it planned is never
-- overwritten. A workspace already waiting to be planned (`plan_after` NULL) is left as it
-- is, so a transaction adding 10,000 members updates its workspace once, not 10,000 times.
ALTER TABLE workspaces ADD COLUMN plan_after BIGINT;
ALTER TABLE workspaces ADD COLUMN plan_changes BIGINT NOT NULL DEFAULT 0;

-- Each locks the workspace's row first, even when it is already waiting to be planned: a
-- planner's claim then waits for the change to commit, and plans with it. (Without the lock,
-- a claim between the change and its commit read the old settings and kept its plan.)
-- Locking a row again in the same transaction costs nothing.

-- For rows that belong to a workspace (members, schedules, prompts, billing accounts).
CREATE FUNCTION plan_again_for_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM workspaces WHERE id = NEW.workspace_id FOR NO KEY UPDATE;
    UPDATE workspaces SET plan_after = NULL, plan_changes = plan_changes + 1 WHERE id = NEW.workspace_id AND plan_after IS NOT NULL;
    RETURN NULL;
END;
$$;

-- For the workspace's own row (already locked by the update that fired it).
CREATE FUNCTION plan_again_for_workspace() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET plan_after = NULL, plan_changes = plan_changes + 1 WHERE id = NEW.id AND plan_after IS NOT NULL;
    RETURN NULL;
END;
$$;

CREATE TRIGGER plan_again_after_member_insert
AFTER INSERT ON members
FOR EACH ROW EXECUTE FUNCTION plan_again_for_row();

-- Only a value that changed counts: a roster sync writes every member's row as Slack has it.
CREATE TRIGGER plan_again_after_member_update
AFTER UPDATE OF slack_user_id, time_zone, is_bot, is_deleted, is_guest, is_opted_out, is_excluded,
    paused_until, welcome_until, delivery_stopped_reason ON members
FOR EACH ROW
WHEN (OLD.slack_user_id IS DISTINCT FROM NEW.slack_user_id
    OR OLD.time_zone IS DISTINCT FROM NEW.time_zone
    OR OLD.is_bot IS DISTINCT FROM NEW.is_bot
    OR OLD.is_deleted IS DISTINCT FROM NEW.is_deleted
    OR OLD.is_guest IS DISTINCT FROM NEW.is_guest
    OR OLD.is_opted_out IS DISTINCT FROM NEW.is_opted_out
    OR OLD.is_excluded IS DISTINCT FROM NEW.is_excluded
    OR OLD.paused_until IS DISTINCT FROM NEW.paused_until
    OR OLD.welcome_until IS DISTINCT FROM NEW.welcome_until
    OR OLD.delivery_stopped_reason IS DISTINCT FROM NEW.delivery_stopped_reason)
EXECUTE FUNCTION plan_again_for_row();

CREATE TRIGGER plan_again_after_schedule_change
AFTER INSERT OR UPDATE ON schedules
FOR EACH ROW EXECUTE FUNCTION plan_again_for_row();

CREATE TRIGGER plan_again_after_asking_update
AFTER UPDATE OF status, questions_enabled, include_guests, default_time_zone, delivery_stopped_reason ON workspaces
FOR EACH ROW
WHEN (OLD.status IS DISTINCT FROM NEW.status
    OR OLD.questions_enabled IS DISTINCT FROM NEW.questions_enabled
    OR OLD.include_guests IS DISTINCT FROM NEW.include_guests
    OR OLD.default_time_zone IS DISTINCT FROM NEW.default_time_zone
    OR OLD.delivery_stopped_reason IS DISTINCT FROM NEW.delivery_stopped_reason)
EXECUTE FUNCTION plan_again_for_workspace();

-- An open question closing (answered, skipped, expired, failed) can make its member due
-- again within the round's catch-up window.
CREATE TRIGGER plan_again_after_question_closes
AFTER UPDATE OF status ON prompts
FOR EACH ROW
WHEN (OLD.status IN ('pending', 'in_flight', 'sent') AND NEW.status NOT IN ('pending', 'in_flight', 'sent'))
EXECUTE FUNCTION plan_again_for_row();

CREATE TRIGGER plan_again_after_billing_change
AFTER INSERT OR UPDATE ON billing_accounts
FOR EACH ROW EXECUTE FUNCTION plan_again_for_row();
