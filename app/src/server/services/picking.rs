//! Which question a member gets next: one they have not been asked, rotating fairly across
//! the workspace's enabled packs; once they have seen everything, the least recently asked.
//! A new member's first week draws from the first-week pack first.

use std::collections::HashMap;

use sqlx::AnyConnection;

use crate::server::db::{
    packs::PackKind,
    prompts::{self, AskedRow},
    questions::{self, Question},
};

/// The question to ask `member_id` next, or `None` when the workspace has no question.
pub async fn next_question(
    conn: &mut AnyConnection,
    workspace_id: &str,
    member_id: &str,
    first_week: bool,
) -> sqlx::Result<Option<Question>> {
    let candidates = Candidates::load(&mut *conn, workspace_id).await?;
    candidates.next_for(conn, member_id, first_week).await
}

/// The questions a workspace asks from, read once and shared by every member of a round.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    regular: Vec<Question>,
    first_week: Vec<Question>,
}

impl Candidates {
    pub async fn load(conn: &mut AnyConnection, workspace_id: &str) -> sqlx::Result<Candidates> {
        Ok(Candidates {
            regular: questions::list_askable(&mut *conn, workspace_id, PackKind::Regular).await?,
            first_week: questions::list_askable(&mut *conn, workspace_id, PackKind::FirstWeek).await?,
        })
    }

    /// The question to ask `member_id` next (see [`Candidates::pick`]).
    pub async fn next_for(
        &self,
        conn: &mut AnyConnection,
        member_id: &str,
        first_week: bool,
    ) -> sqlx::Result<Option<Question>> {
        let asked = prompts::list_asked_for_member(conn, member_id).await?;
        Ok(self.pick(&asked, first_week).cloned())
    }

    /// The question to ask a member who was `asked` these before: in their first week an
    /// unasked first-week question if one is left, else by [`choose`] from the regular packs.
    pub fn pick(&self, asked: &[AskedRow], first_week: bool) -> Option<&Question> {
        if first_week
            && let Some(unasked) =
                choose(&self.first_week, asked).filter(|q| !asked.iter().any(|a| a.question_id == q.id))
        {
            return Some(unasked);
        }
        choose(&self.regular, asked)
    }
}

/// Picks from `candidates` (in pack and position order) given what was `asked` before.
///
/// Packs take turns: the pack asked from least recently (never first, then in pack order)
/// gives its first unasked question. When every candidate was asked, the one asked longest
/// ago comes back.
pub fn choose<'q>(candidates: &'q [Question], asked: &[AskedRow]) -> Option<&'q Question> {
    let last_asked: HashMap<&str, i64> = asked.iter().map(|a| (a.question_id.as_str(), a.last_asked_at)).collect();
    let mut pack_last_asked: HashMap<&str, i64> = HashMap::new();
    for a in asked {
        let entry = pack_last_asked.entry(a.pack_id.as_str()).or_insert(a.last_asked_at);
        *entry = (*entry).max(a.last_asked_at);
    }
    let mut packs: Vec<&str> = Vec::new();
    for question in candidates {
        if !packs.contains(&question.pack_id.as_str()) {
            packs.push(&question.pack_id);
        }
    }
    // Stable: packs with the same standing keep their order.
    packs.sort_by_key(|pack| pack_last_asked.get(pack).copied());
    let unasked = packs
        .iter()
        .find_map(|pack| candidates.iter().find(|q| q.pack_id == *pack && !last_asked.contains_key(q.id.as_str())));
    unasked.or_else(|| candidates.iter().min_by_key(|q| last_asked.get(q.id.as_str()).copied().unwrap_or(i64::MIN)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(pack: &str, n: i64) -> Question {
        Question {
            id: format!("{pack}-{n}"),
            pack_id: pack.to_owned(),
            text: format!("question {n} of {pack}"),
            position: n,
            is_disabled: false,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn asked(question: &Question, at: i64) -> AskedRow {
        AskedRow { question_id: question.id.clone(), pack_id: question.pack_id.clone(), last_asked_at: at }
    }

    /// Asks `rounds` times, each time recording the pick, and returns the picks' ids.
    fn run(candidates: &[Question], rounds: usize) -> Vec<String> {
        let mut history: Vec<AskedRow> = Vec::new();
        let mut picks = Vec::new();
        for round in 0..rounds {
            let Some(pick) = choose(candidates, &history) else { break };
            history.retain(|a| a.question_id != pick.id);
            history.push(asked(pick, i64::try_from(round).unwrap_or(0)));
            picks.push(pick.id.clone());
        }
        picks
    }

    #[test]
    fn packs_take_turns_and_nothing_repeats_until_everything_was_asked() {
        let candidates = [
            question("a", 1),
            question("a", 2),
            question("a", 3),
            question("b", 1),
            question("c", 1),
            question("c", 2),
        ];
        let picks = run(&candidates, 6);
        assert_eq!(picks, ["a-1", "b-1", "c-1", "a-2", "c-2", "a-3"]);
        // Then the least recently asked comes back, in the order they were first asked.
        assert_eq!(run(&candidates, 8)[6..], ["a-1", "b-1"]);
    }

    #[test]
    fn a_member_who_saw_one_pack_a_lot_gets_the_others_first() {
        let candidates = [question("a", 1), question("a", 2), question("b", 1), question("b", 2)];
        let history = [asked(&candidates[0], 10)];
        assert_eq!(choose(&candidates, &history).map(|q| q.id.as_str()), Some("b-1"));
        let history = [asked(&candidates[0], 10), asked(&candidates[2], 20)];
        assert_eq!(choose(&candidates, &history).map(|q| q.id.as_str()), Some("a-2"));
    }

    #[test]
    fn no_candidates_means_no_question() {
        assert_eq!(choose(&[], &[]), None);
    }
}
