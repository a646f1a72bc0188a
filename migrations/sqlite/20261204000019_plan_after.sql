-- Rounds are planned from each workspace's next due time (sqlite dialect; keep in step with
-- postgres).
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
-- (SQLite needs no more: a claim is a write, and waits for the writer's transaction.)
ALTER TABLE workspaces ADD COLUMN plan_after INTEGER;
ALTER TABLE workspaces ADD COLUMN plan_changes INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER plan_again_after_member_insert AFTER INSERT ON members BEGIN
    UPDATE workspaces SET plan_after = NULL, plan_changes = plan_changes + 1 WHERE id = new.workspace_id AND plan_after IS NOT NULL;
END;

-- Only a value that changed counts: a roster sync writes every member's row as Slack has it.
CREATE TRIGGER plan_again_after_member_update
AFTER UPDATE OF slack_user_id, time_zone, is_bot, is_deleted, is_guest, is_opted_out, is_excluded, paused_until,
    welcome_until, delivery_stopped_reason ON members
WHEN old.slack_user_id IS NOT new.slack_user_id OR old.time_zone IS NOT new.time_zone
    OR old.is_bot IS NOT new.is_bot OR old.is_deleted IS NOT new.is_deleted
    OR old.is_guest IS NOT new.is_guest OR old.is_opted_out IS NOT new.is_opted_out
    OR old.is_excluded IS NOT new.is_excluded OR old.paused_until IS NOT new.paused_until
    OR old.welcome_until IS NOT new.welcome_until
    OR old.delivery_stopped_reason IS NOT new.delivery_stopped_reason BEGIN
    UPDATE workspaces SET plan_after = NULL, plan_changes = plan_changes + 1 WHERE id = new.workspace_id AND plan_after IS NOT NULL;
END;

CREATE TRIGGER plan_again_after_schedule_insert AFTER INSERT ON schedules BEGIN
    UPDATE workspaces SET plan_after = NULL, plan_changes = plan_changes + 1 WHERE id = new.workspace_id AND plan_after IS NOT NULL;
END;

CREATE TRIGGER plan_again_after_schedule_update AFTER UPDATE ON schedules BEGIN
    UPDATE workspaces SET plan_after = NULL, plan_changes = plan_changes + 1 WHERE id = new.workspace_id AND plan_after IS NOT NULL;
END;

CREATE TRIGGER plan_again_after_asking_update
AFTER UPDATE OF status, questions_enabled, include_guests, default_time_zone, delivery_stopped_reason ON workspaces
WHEN old.status IS NOT new.status OR old.questions_enabled IS NOT new.questions_enabled
    OR old.include_guests IS NOT new.include_guests
    OR old.default_time_zone IS NOT new.default_time_zone
    OR old.delivery_stopped_reason IS NOT new.delivery_stopped_reason
BEGIN
    UPDATE workspaces SET plan_after = NULL, plan_changes = plan_changes + 1 WHERE id = new.id AND plan_after IS NOT NULL;
END;

-- An open question closing (answered, skipped, expired, failed) can make its member due
-- again within the round's catch-up window.
CREATE TRIGGER plan_again_after_question_closes AFTER UPDATE OF status ON prompts
WHEN old.status IN ('pending', 'in_flight', 'sent') AND new.status NOT IN ('pending', 'in_flight', 'sent') BEGIN
    UPDATE workspaces SET plan_after = NULL, plan_changes = plan_changes + 1 WHERE id = new.workspace_id AND plan_after IS NOT NULL;
END;

CREATE TRIGGER plan_again_after_billing_insert AFTER INSERT ON billing_accounts BEGIN
    UPDATE workspaces SET plan_after = NULL, plan_changes = plan_changes + 1 WHERE id = new.workspace_id AND plan_after IS NOT NULL;
END;

CREATE TRIGGER plan_again_after_billing_update AFTER UPDATE ON billing_accounts BEGIN
    UPDATE workspaces SET plan_after = NULL, plan_changes = plan_changes + 1 WHERE id = new.workspace_id AND plan_after IS NOT NULL;
END;
