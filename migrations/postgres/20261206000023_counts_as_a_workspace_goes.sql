-- Deleting a workspace no longer fails on its answer counts (postgres dialect; sqlite has
-- nothing to change, see its file).
--
-- A workspace's deletion cascades to its members, and each member's BEFORE DELETE trigger
-- took their team answers off their questions' counts. By then the workspace's row was gone
-- in this very statement. The first member's update of a count row went through, but the
-- second update of the same row, now a version this transaction wrote, had its foreign key
-- to the workspace checked again and failed: "violates foreign key constraint
-- question_answer_counts_workspace_id_fkey". So an admin could not delete a workspace
-- where two members had answered one question for the team, nor could the purge of
-- uninstalled ones. The counts of a workspace that is going go with it (their rows cascade
-- too), so there is nothing to take off.
CREATE OR REPLACE FUNCTION answer_counts_before_member_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM workspaces WHERE id = OLD.workspace_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN OLD;
    END IF;
    UPDATE question_answer_counts c SET answer_count = c.answer_count - mine.answers
    FROM (SELECT a.workspace_id, p.question_id, COUNT(*) AS answers
          FROM prompts p JOIN answers a ON a.prompt_id = p.id
          WHERE p.member_id = OLD.id AND a.visibility = 'team'
          GROUP BY a.workspace_id, p.question_id) AS mine
    WHERE c.workspace_id = mine.workspace_id AND c.question_id = mine.question_id;
    RETURN OLD;
END;
$$;
