//! The built-in question packs, shipped with Rapport as data
//! (`builtin_packs.json`), installed and kept in step at every start.

use serde::Deserialize;

use crate::{
    error::AppError,
    server::db::{Db, packs, questions},
};

/// The built-in packs. Keys are stable ids: a question's text may be edited here, its key
/// never reused, so answers keep pointing at the question they answered.
const BUILTIN_PACKS: &str = include_str!("builtin_packs.json");

#[derive(Debug, Deserialize)]
struct BuiltinFile {
    packs: Vec<BuiltinPack>,
}

#[derive(Debug, Deserialize)]
struct BuiltinPack {
    key: String,
    name: String,
    description: String,
    first_week: bool,
    questions: Vec<BuiltinQuestion>,
}

#[derive(Debug, Deserialize)]
struct BuiltinQuestion {
    key: String,
    text: String,
}

/// How many built-in packs and questions are installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Installed {
    pub packs: usize,
    pub questions: usize,
}

/// Inserts the built-in packs and questions, or updates them in place, in one transaction.
pub async fn install_builtin(db: &Db, now_ms: i64) -> Result<Installed, AppError> {
    let file: BuiltinFile = serde_json::from_str(BUILTIN_PACKS)
        .map_err(|error| AppError::internal(anyhow::anyhow!("builtin_packs.json is not valid: {error}")))?;
    let mut installed = Installed { packs: 0, questions: 0 };
    let mut tx = db.begin_write().await?;
    for pack in &file.packs {
        let pack_row = packs::BuiltinPack {
            id: format!("builtin-{}", pack.key),
            name: pack.name.clone(),
            description: pack.description.clone(),
            kind: if pack.first_week { packs::PackKind::FirstWeek } else { packs::PackKind::Regular },
        };
        packs::upsert_builtin(&mut *tx, &pack_row, now_ms).await?;
        for (position, question) in (1_i64..).zip(&pack.questions) {
            let row = questions::BuiltinQuestion {
                id: format!("builtin-{}", question.key),
                pack_id: pack_row.id.clone(),
                text: question.text.clone(),
                position,
            };
            questions::upsert_builtin(&mut *tx, &row, now_ms).await?;
            installed.questions += 1;
        }
        installed.packs += 1;
    }
    tx.commit().await?;
    Ok(installed)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn file() -> BuiltinFile {
        serde_json::from_str(BUILTIN_PACKS).unwrap()
    }

    #[test]
    fn there_are_eight_packs_and_a_first_week_pack_with_two_hundred_questions() {
        let file = file();
        let regular = file.packs.iter().filter(|p| !p.first_week).count();
        let first_week = file.packs.iter().filter(|p| p.first_week).count();
        let questions: usize = file.packs.iter().map(|p| p.questions.len()).sum();
        assert!(regular >= 8 && first_week == 1, "{regular} regular, {first_week} first-week packs");
        assert!(questions >= 200, "{questions} questions");
    }

    #[test]
    fn keys_and_texts_are_unique_and_every_question_is_a_question() {
        let file = file();
        let mut keys = HashSet::new();
        let mut texts = HashSet::new();
        for question in file.packs.iter().flat_map(|p| &p.questions) {
            assert!(keys.insert(question.key.clone()), "duplicate key {}", question.key);
            assert!(texts.insert(question.text.to_lowercase()), "duplicate text {}", question.text);
            assert!(question.text.ends_with('?'), "{}", question.text);
            assert!(question.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        }
    }
}
