//! The team directory: who it lists (human members still in the workspace, exactly the rows
//! of the `members_directory` index), in which order (see [`members::sort_name`]), a page at a
//! time, and how many.
//!
//! A page of the whole directory starts at its first person. Where every page starts, and how
//! many people there are, is read in one walk along the index and kept in memory
//! ([`PageStarts`]) while the workspace's `directory_version` stays what it was; triggers
//! change it whenever someone joins, leaves or changes place (migration 24). Before, a page
//! walked past everyone ahead of it (`OFFSET`) and the count walked everyone, about 1.4 ms of
//! a visit at 10,000 members on SQLite (BENCHMARKS.md, B2). A filtered page still walks: the
//! filter reads every name and title anyway.
//!
//! [`members::sort_name`]: super::members::sort_name

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex, PoisonError},
};

use sqlx::{Any, Executor};

use super::{Db, sql_count};

/// Workspaces whose [`PageStarts`] one [`Db`] handle keeps; past that, one is dropped for each
/// one added. A page start is two strings, some 100 bytes: about 21 KB for a team of 10,000.
const KEPT_WORKSPACES: usize = 1_000;

/// One line of the team directory: a member with their team-visible answer count and
/// their latest team-visible answer, if any.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DirectoryRow {
    pub id: String,
    pub name: String,
    pub title: String,
    pub avatar_url: String,
    pub answer_count: i64,
    pub latest_question: Option<String>,
    pub latest_text: Option<String>,
    pub latest_at: Option<i64>,
}

/// Where each page of a workspace's whole directory starts, and how many people it lists, as
/// of one `directory_version` of the workspace.
#[derive(Debug)]
pub struct PageStarts {
    version: i64,
    per_page: usize,
    everyone: i64,
    /// Each page's first person, by sort key and id: the directory's order.
    starts: Vec<(String, String)>,
}

impl PageStarts {
    /// How many people the directory lists.
    pub fn everyone(&self) -> i64 {
        self.everyone
    }

    /// How many pages they fill: none for an empty directory.
    pub fn pages(&self) -> usize {
        self.starts.len()
    }
}

/// The [`PageStarts`] of the workspaces whose directory was read lately, by workspace id.
#[derive(Debug, Default)]
pub struct KeptPageStarts(Mutex<HashMap<String, Arc<PageStarts>>>);

impl KeptPageStarts {
    fn get(&self, workspace_id: &str) -> Option<Arc<PageStarts>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(workspace_id).cloned()
    }

    fn keep(&self, workspace_id: &str, starts: Arc<PageStarts>) {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= KEPT_WORKSPACES && !kept.contains_key(workspace_id) {
            // Any one: a workspace dropped reads its starts again on its next visit.
            if let Some(dropped) = kept.keys().next().cloned() {
                kept.remove(&dropped);
            }
        }
        kept.insert(workspace_id.to_owned(), starts);
    }
}

/// Where every page of `per_page` people of `workspace_id`'s directory starts: the kept
/// starts while the workspace's `directory_version` is still theirs, else read again and
/// kept.
pub async fn page_starts(db: &Db, workspace_id: &str, per_page: usize) -> sqlx::Result<Arc<PageStarts>> {
    // The version is read first: starts read after a change it did not see are kept under
    // the older version, so the next visit reads them again. (Read the other way round, starts
    // from before a change could be kept as current.)
    let version: Option<i64> = sqlx::query_scalar("SELECT directory_version FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_optional(db.pool())
        .await?;
    let version = version.unwrap_or_default();
    let kept = db.kept_page_starts().get(workspace_id);
    if let Some(kept) = kept.filter(|kept| kept.version == version && kept.per_page == per_page) {
        return Ok(kept);
    }
    let starts = Arc::new(read_page_starts(db.pool(), workspace_id, version, per_page).await?);
    db.kept_page_starts().keep(workspace_id, Arc::clone(&starts));
    Ok(starts)
}

/// Every `per_page`th person of the directory from the first, and how many there are, in one
/// walk along `members_directory`.
async fn read_page_starts<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    version: i64,
    per_page: usize,
) -> sqlx::Result<PageStarts> {
    static STARTS: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT sort_name, id, everyone FROM (
                 SELECT m.sort_name, m.id, ROW_NUMBER() OVER (ORDER BY m.sort_name, m.id) AS place,
                        COUNT(*) OVER () AS everyone
                 FROM members m
                 WHERE {listed}
             ) AS listed
             WHERE (place - 1) % $2 = 0
             ORDER BY place",
            listed = listed_members(&[]),
        )
    });
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as(&STARTS).bind(workspace_id).bind(sql_count(per_page.max(1))).fetch_all(ex).await?;
    let everyone = rows.first().map_or(0, |(_, _, everyone)| *everyone);
    let starts = rows.into_iter().map(|(sort_name, id, _)| (sort_name, id)).collect();
    Ok(PageStarts { version, per_page, everyone, starts })
}

/// Page `page` (from 0) of the whole directory, each person with their team-visible answer
/// count and latest team-visible answer; empty past the last page. Only team-visible answers
/// count, so an only-me answer never shows, not even as a number.
pub async fn list_page<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    starts: &PageStarts,
    page: usize,
) -> sqlx::Result<Vec<DirectoryRow>> {
    let Some((sort_name, id)) = starts.starts.get(page) else {
        return Ok(Vec::new());
    };
    // The same for every visit, so written once rather than on each.
    static PAGE: LazyLock<String> = LazyLock::new(|| {
        with_cards(&format!(
            "SELECT m.id, m.sort_name FROM members m
             WHERE {listed} AND (m.sort_name, m.id) >= ($2, $3)
             ORDER BY m.sort_name, m.id
             LIMIT $4",
            listed = listed_members(&[]),
        ))
    });
    sqlx::query_as(&PAGE)
        .bind(workspace_id)
        .bind(sort_name)
        .bind(id)
        .bind(sql_count(starts.per_page))
        .fetch_all(ex)
        .await
}

/// The people of the directory that `words` (lower-cased, at least one) narrow it to: `limit`
/// after the first `offset`, as [`list_page`] gives them.
pub async fn list_filtered<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    words: &[String],
    limit: usize,
    offset: usize,
) -> sqlx::Result<Vec<DirectoryRow>> {
    let (limit_at, offset_at) = (words.len() + 2, words.len() + 3);
    let people = format!(
        "SELECT m.id, m.sort_name FROM members m
         WHERE {listed}
         ORDER BY m.sort_name, m.id
         LIMIT ${limit_at} OFFSET ${offset_at}",
        listed = listed_members(words),
    );
    let sql = with_cards(&people);
    let mut query = sqlx::query_as(&sql).bind(workspace_id);
    for word in words {
        query = query.bind(anywhere(word));
    }
    query.bind(sql_count(limit)).bind(sql_count(offset)).fetch_all(ex).await
}

/// How many people of the directory `words` (lower-cased) narrow it to.
pub async fn count_filtered<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    words: &[String],
) -> sqlx::Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM members m WHERE {}", listed_members(words));
    let mut query = sqlx::query_scalar(&sql).bind(workspace_id);
    for word in words {
        query = query.bind(anywhere(word));
    }
    query.fetch_one(ex).await
}

/// Who the directory lists: human members still in the workspace (the `members_directory`
/// index holds exactly these), narrowed by every word of the filter (lower-cased, each
/// found anywhere in the name or title). `$1` is the workspace, the words `$2` on.
fn listed_members(words: &[String]) -> String {
    let mut sql = "m.workspace_id = $1 AND m.is_bot = 0 AND m.is_deleted = 0 AND m.forgotten_at IS NULL".to_owned();
    for number in 0..words.len() {
        sql.push_str(&format!(" AND m.filter_text LIKE ${} ESCAPE '\\'", number + 2));
    }
    sql
}

/// `word` as a LIKE pattern that finds it anywhere, its `%`, `_` and `\` taken literally.
fn anywhere(word: &str) -> String {
    let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// The cards of the people `people` selects (their `id` and `sort_name`, in order): only
/// those people's rows and latest answers are read, each member's count and latest answer's
/// id being kept in `member_answer_counts` as their answers change (migration 21).
fn with_cards(people: &str) -> String {
    format!(
        "WITH page_ids AS ({people})
         SELECT m.id, m.name, m.title, m.avatar_url, COALESCE(c.answer_count, 0) AS answer_count,
                q.text AS latest_question, a.text AS latest_text, a.created_at AS latest_at
         FROM page_ids
         JOIN members m ON m.id = page_ids.id
         LEFT JOIN member_answer_counts c ON c.member_id = m.id
         LEFT JOIN answers a ON a.id = c.latest_answer_id
         LEFT JOIN prompts p ON p.id = a.prompt_id
         LEFT JOIN questions q ON q.id = p.question_id
         ORDER BY page_ids.sort_name, page_ids.id"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(version: i64) -> Arc<PageStarts> {
        Arc::new(PageStarts { version, per_page: 48, everyone: 0, starts: Vec::new() })
    }

    #[test]
    fn past_the_limit_one_workspace_is_dropped_for_each_one_kept() {
        let kept = KeptPageStarts::default();
        for number in 0..KEPT_WORKSPACES {
            kept.keep(&format!("w{number}"), starts(1));
        }
        kept.keep("w0", starts(2));
        assert_eq!(kept.0.lock().unwrap().len(), KEPT_WORKSPACES, "a workspace kept again replaces its starts");
        assert_eq!(kept.get("w0").map(|kept| kept.version), Some(2));

        kept.keep("newcomer", starts(1));

        let held = kept.0.lock().unwrap();
        assert_eq!(held.len(), KEPT_WORKSPACES);
        assert!(held.contains_key("newcomer"));
    }

    #[test]
    fn a_filter_word_is_found_anywhere_with_like_wildcards_taken_literally() {
        assert_eq!(anywhere("ada"), "%ada%");
        assert_eq!(anywhere("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}
