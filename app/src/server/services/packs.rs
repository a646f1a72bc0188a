//! Question packs for admins: every pack with its on/off state; the workspace's own packs
//! (create, rename, delete; add, edit, reorder and switch off questions); switching any pack
//! on or off; CSV import and export. Built-in packs can be switched off but never edited.

use std::collections::{HashMap, HashSet};

use crate::{
    error::AppError,
    features::packs::types::{MAX_IMPORT_ROWS, PackName, PackView, QuestionText, QuestionView},
    ids::{PackId, QuestionId},
    server::{
        db::{
            packs::{self, Pack, PackKind},
            questions::{self, Question},
        },
        new_id,
        viewer::Viewer,
    },
};

/// The longest pack description, in characters.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// Every pack the workspace can see, with its questions.
pub async fn list(viewer: &Viewer) -> Result<Vec<PackView>, AppError> {
    let mut by_pack: HashMap<String, Vec<Question>> = HashMap::new();
    for question in questions::list_for_workspace_packs(viewer.db.pool(), &viewer.workspace_id).await? {
        by_pack.entry(question.pack_id.clone()).or_default().push(question);
    }
    let mut views = Vec::new();
    for pack in packs::list_with_state(viewer.db.pool(), &viewer.workspace_id).await? {
        let questions = by_pack.remove(&pack.id).unwrap_or_default();
        views.push(PackView {
            id: PackId::parse(&pack.id)?,
            name: pack.name,
            description: pack.description,
            builtin: pack.workspace_id.is_none(),
            first_week: pack.kind == PackKind::FirstWeek,
            enabled: pack.is_enabled,
            questions: questions.into_iter().map(question_view).collect::<Result<_, _>>()?,
        });
    }
    // Sorted here: the two databases collate names differently.
    views.sort_by_cached_key(|pack| (pack.builtin, pack.name.to_lowercase()));
    Ok(views)
}

/// Creates one of the workspace's own packs, empty and switched on.
pub async fn create(viewer: &Viewer, name: &PackName, description: &str, now_ms: i64) -> Result<PackId, AppError> {
    let row = Pack {
        id: new_id(),
        workspace_id: Some(viewer.workspace_id.clone()),
        name: name.as_str().to_owned(),
        description: checked_description(description)?,
        kind: PackKind::Regular,
        created_at: now_ms,
        updated_at: now_ms,
    };
    packs::insert(viewer.db.pool(), &row).await?;
    PackId::parse(&row.id)
}

/// Renames one of the workspace's own packs.
pub async fn rename(
    viewer: &Viewer,
    pack: &PackId,
    name: &PackName,
    description: &str,
    now_ms: i64,
) -> Result<(), AppError> {
    own_pack(viewer, pack).await?;
    let description = checked_description(description)?;
    packs::update_name(viewer.db.pool(), &viewer.workspace_id, pack.as_str(), name.as_str(), &description, now_ms)
        .await?;
    Ok(())
}

/// Deletes one of the workspace's own packs. A pack whose questions were ever asked is kept,
/// because deleting it would delete people's answers: switch it off instead.
pub async fn delete(viewer: &Viewer, pack: &PackId) -> Result<(), AppError> {
    own_pack(viewer, pack).await?;
    let mut tx = viewer.db.begin_write().await?;
    if packs::count_prompts(&mut *tx, pack.as_str()).await? > 0 {
        return Err(AppError::Conflict("This pack's questions have been asked; switch it off instead.".into()));
    }
    packs::delete_own(&mut *tx, &viewer.workspace_id, pack.as_str()).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a question at the end of one of the workspace's own packs.
pub async fn add_question(
    viewer: &Viewer,
    pack: &PackId,
    text: &QuestionText,
    now_ms: i64,
) -> Result<QuestionId, AppError> {
    own_pack(viewer, pack).await?;
    let mut tx = viewer.db.begin_write().await?;
    let existing = questions::list_for_pack(&mut *tx, pack.as_str()).await?;
    if existing.iter().any(|q| same_text(&q.text, text.as_str())) {
        return Err(AppError::Invalid {
            field: "question".into(),
            message: "This question is already in the pack.".into(),
        });
    }
    let row = new_question(pack, text.as_str(), next_position(&existing), now_ms);
    questions::insert(&mut *tx, &row).await?;
    tx.commit().await?;
    QuestionId::parse(&row.id)
}

/// Changes a question's text in one of the workspace's own packs.
pub async fn edit_question(
    viewer: &Viewer,
    pack: &PackId,
    question: &QuestionId,
    text: &QuestionText,
    now_ms: i64,
) -> Result<(), AppError> {
    own_pack(viewer, pack).await?;
    let changed =
        questions::update_text(viewer.db.pool(), pack.as_str(), question.as_str(), text.as_str(), now_ms).await?;
    if changed == 0 { Err(AppError::NotFound) } else { Ok(()) }
}

/// Puts a pack's questions in the given order; `order` must name each question once.
pub async fn reorder(viewer: &Viewer, pack: &PackId, order: &[QuestionId], now_ms: i64) -> Result<(), AppError> {
    own_pack(viewer, pack).await?;
    let mut tx = viewer.db.begin_write().await?;
    let existing: HashSet<String> =
        questions::list_for_pack(&mut *tx, pack.as_str()).await?.into_iter().map(|q| q.id).collect();
    let given: HashSet<String> = order.iter().map(|id| id.as_str().to_owned()).collect();
    if given.len() != order.len() || given != existing {
        return Err(AppError::Invalid {
            field: "order".into(),
            message: "Name every question of the pack exactly once.".into(),
        });
    }
    for (position, question) in (1_i64..).zip(order) {
        questions::update_position(&mut *tx, pack.as_str(), question.as_str(), position, now_ms).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Switches a question of one of the workspace's own packs off (never asked) or on.
pub async fn set_question_disabled(
    viewer: &Viewer,
    pack: &PackId,
    question: &QuestionId,
    disabled: bool,
    now_ms: i64,
) -> Result<(), AppError> {
    own_pack(viewer, pack).await?;
    let changed =
        questions::update_disabled(viewer.db.pool(), pack.as_str(), question.as_str(), disabled, now_ms).await?;
    if changed == 0 { Err(AppError::NotFound) } else { Ok(()) }
}

/// Switches any pack the workspace can see on or off for that workspace.
pub async fn set_enabled(viewer: &Viewer, pack: &PackId, enabled: bool, now_ms: i64) -> Result<(), AppError> {
    packs::find_visible(viewer.db.pool(), &viewer.workspace_id, pack.as_str()).await?.ok_or(AppError::NotFound)?;
    packs::upsert_enabled(viewer.db.pool(), &viewer.workspace_id, pack.as_str(), enabled, now_ms).await?;
    Ok(())
}

/// A pack's questions as CSV: a `question` header, then one question a row, in order.
pub async fn export_csv(viewer: &Viewer, pack: &PackId) -> Result<String, AppError> {
    packs::find_visible(viewer.db.pool(), &viewer.workspace_id, pack.as_str()).await?.ok_or(AppError::NotFound)?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut write = |field: &str| writer.write_record([field]).map_err(AppError::internal);
    write("question")?;
    for question in questions::list_for_pack(viewer.db.pool(), pack.as_str()).await? {
        write(&question.text)?;
    }
    let bytes = writer.into_inner().map_err(|error| AppError::internal(anyhow::anyhow!("{error}")))?;
    String::from_utf8(bytes).map_err(AppError::internal)
}

/// Appends the questions of a CSV (one column; an optional `question` header) to one of the
/// workspace's own packs. Any problem rejects the whole file, listing each line and reason;
/// nothing is imported then. Returns how many questions were added.
pub async fn import_csv(viewer: &Viewer, pack: &PackId, csv_text: &str, now_ms: i64) -> Result<usize, AppError> {
    own_pack(viewer, pack).await?;
    let mut tx = viewer.db.begin_write().await?;
    let existing = questions::list_for_pack(&mut *tx, pack.as_str()).await?;
    let texts = parse_import(csv_text, &existing)?;
    let first = next_position(&existing);
    for (offset, text) in (0_i64..).zip(&texts) {
        questions::insert(&mut *tx, &new_question(pack, text.as_str(), first + offset, now_ms)).await?;
    }
    tx.commit().await?;
    Ok(texts.len())
}

/// Reads an import, collecting every problem with its line number.
fn parse_import(csv_text: &str, existing: &[Question]) -> Result<Vec<QuestionText>, AppError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(csv_text.as_bytes());
    let mut seen: Vec<(String, u64)> = existing.iter().map(|q| (q.text.to_lowercase(), 0)).collect();
    let mut texts = Vec::new();
    let mut problems = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                problems.push(format!("line {line}: not valid CSV ({error})"));
                break;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        if index == 0 && record.len() == 1 && record[0].trim().eq_ignore_ascii_case("question") {
            continue;
        }
        if record.len() != 1 {
            problems.push(format!("line {line}: expected one column (the question), found {}", record.len()));
            continue;
        }
        match QuestionText::parse(&record[0]) {
            Err(AppError::Invalid { message, .. }) => problems.push(format!("line {line}: {message}")),
            Err(other) => return Err(other),
            Ok(text) => match seen.iter().find(|(known, _)| *known == text.as_str().to_lowercase()) {
                Some((_, 0)) => problems.push(format!("line {line}: already in the pack")),
                Some((_, first)) => problems.push(format!("line {line}: same question as line {first}")),
                None => {
                    seen.push((text.as_str().to_lowercase(), line));
                    texts.push(text);
                }
            },
        }
    }
    if texts.len() > MAX_IMPORT_ROWS {
        problems.push(format!("the file has {} questions; import at most {MAX_IMPORT_ROWS} at a time", texts.len()));
    }
    if texts.is_empty() && problems.is_empty() {
        problems.push("the file has no questions".to_owned());
    }
    if problems.is_empty() {
        Ok(texts)
    } else {
        Err(AppError::Invalid { field: "csv".into(), message: problems.join("; ") })
    }
}

/// One of the workspace's own packs; a built-in pack is `Forbidden`, anything else `NotFound`.
async fn own_pack(viewer: &Viewer, pack: &PackId) -> Result<Pack, AppError> {
    let found = packs::find_visible(viewer.db.pool(), &viewer.workspace_id, pack.as_str()).await?;
    match found {
        Some(row) if row.workspace_id.is_some() => Ok(row),
        Some(_) => Err(AppError::Forbidden),
        None => Err(AppError::NotFound),
    }
}

fn checked_description(raw: &str) -> Result<String, AppError> {
    let description = raw.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AppError::Invalid {
            field: "description".into(),
            message: format!("Keep the description to {MAX_DESCRIPTION_CHARS} characters."),
        });
    }
    Ok(description.to_owned())
}

fn same_text(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

fn next_position(existing: &[Question]) -> i64 {
    existing.iter().map(|q| q.position).max().unwrap_or(0) + 1
}

fn new_question(pack: &PackId, text: &str, position: i64, now_ms: i64) -> Question {
    Question {
        id: new_id(),
        pack_id: pack.as_str().to_owned(),
        text: text.to_owned(),
        position,
        is_disabled: false,
        created_at: now_ms,
        updated_at: now_ms,
    }
}

fn question_view(row: Question) -> Result<QuestionView, AppError> {
    Ok(QuestionView {
        id: QuestionId::parse(&row.id)?,
        text: row.text,
        position: row.position,
        disabled: row.is_disabled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_reports_every_bad_line_and_imports_nothing() {
        let existing = vec![new_question(&PackId::parse("p").unwrap(), "Tea or coffee?", 1, 0)];
        let csv = format!(
            "question\nFavourite biscuit?\n{}\ntea or COFFEE?\nFavourite biscuit?\n\"a\",\"b\"\nBest view?\n",
            "q".repeat(301)
        );

        let Err(AppError::Invalid { field, message }) = parse_import(&csv, &existing) else { panic!("rejected") };

        assert_eq!(field, "csv");
        assert!(message.contains("line 3: Keep it to 300 characters"), "{message}");
        assert!(message.contains("line 4: already in the pack"), "{message}");
        assert!(message.contains("line 5: same question as line 2"), "{message}");
        assert!(message.contains("line 6: expected one column"), "{message}");
        assert!(!message.contains("line 7"), "{message}");
    }

    #[test]
    fn a_clean_import_keeps_order_and_quoted_commas() {
        let texts = parse_import("\"Cats, dogs or neither?\"\nBest view?\n\n", &[]).unwrap();
        let texts: Vec<&str> = texts.iter().map(QuestionText::as_str).collect();
        assert_eq!(texts, ["Cats, dogs or neither?", "Best view?"]);
        assert!(parse_import("question\n", &[]).is_err(), "an empty file is refused");
    }
}
