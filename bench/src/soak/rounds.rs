//! The soak's questions counted for the report: planned by rounds or asked on demand, in
//! each half, and how they ended.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::observe::PromptState;

/// The soak's prompts: planned by rounds or asked on demand, in each half, and how they
/// ended.
#[derive(Debug, Clone, Default)]
pub struct Rounds {
    pub halves: [HalfRounds; 2],
    pub by_status: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HalfRounds {
    /// Prompts planned by a round, and the distinct round dates (members' local days).
    pub scheduled: usize,
    pub round_dates: usize,
    pub on_demand: usize,
}

/// Counts `prompts`; those in `first_half` existed when the server stopped half-way.
pub fn count(prompts: &[PromptState], first_half: &HashMap<String, String>) -> Rounds {
    let mut rounds = Rounds::default();
    let mut dates: [HashSet<&str>; 2] = Default::default();
    for prompt in prompts {
        // 0 for the first half, 1 for the second.
        let half = usize::from(!first_half.contains_key(&prompt.id));
        match &prompt.round_date {
            Some(date) => {
                rounds.halves[half].scheduled += 1;
                dates[half].insert(date.as_str());
            }
            None => rounds.halves[half].on_demand += 1,
        }
        *rounds.by_status.entry(prompt.status.clone()).or_default() += 1;
    }
    for (half, dates) in dates.iter().enumerate() {
        rounds.halves[half].round_dates = dates.len();
    }
    rounds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_are_counted_per_half() {
        let prompt = |id: &str, round_date: Option<&str>| PromptState {
            id: id.to_owned(),
            status: "answered".to_owned(),
            round_date: round_date.map(str::to_owned),
            updated_at: 0,
        };
        let prompts =
            [prompt("a", Some("2026-12-01")), prompt("b", Some("2026-12-02")), prompt("c", None), prompt("d", None)];

        let first_half: HashMap<String, String> = ["a", "b", "c"].map(|id| (id.to_owned(), "sent".to_owned())).into();

        let rounds = count(&prompts, &first_half);

        assert_eq!(rounds.halves[0], HalfRounds { scheduled: 2, round_dates: 2, on_demand: 1 });
        assert_eq!(rounds.halves[1], HalfRounds { scheduled: 0, round_dates: 0, on_demand: 1 });
        assert_eq!(rounds.by_status["answered"], 4);
    }
}
