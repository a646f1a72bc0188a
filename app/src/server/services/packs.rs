//! Question packs for admins: every pack with its on/off state; the workspace's own packs
//! (create, rename, delete; add, edit, reorder and switch off questions); switching any pack
//! on or off; CSV import and export. Built-in packs can be switched off but never edited.

use std::collections::{HashMap, HashSet};

use crate::{
    error::AppError,
    features::packs::types::{MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, PackName, PackView, QuestionText, QuestionView},
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
    check_import_size(csv_text)?;
    own_pack(viewer, pack).await?;
    // Read and checked in full before the write transaction opens: on SQLite that transaction
    // holds the database's only write lock, and recording a Slack event waits for it.
    let snapshot = questions::list_for_pack(viewer.db.pool(), pack.as_str()).await?;
    let rows = parse_import(csv_text, &snapshot)?;
    let mut tx = viewer.db.begin_write().await?;
    // Read again under the lock: a question added since the snapshot is not added twice.
    let existing = questions::list_for_pack(&mut *tx, pack.as_str()).await?;
    let known: HashSet<String> = existing.iter().map(|q| normalised(&q.text)).collect();
    let clashes: Vec<String> = rows
        .iter()
        .filter(|row| known.contains(&normalised(row.text.as_str())))
        .map(|row| format!("line {}: already in the pack", row.line))
        .collect();
    if !clashes.is_empty() {
        return Err(invalid_csv(clashes.join("; ")));
    }
    let first = next_position(&existing);
    for (offset, row) in (0_i64..).zip(&rows) {
        questions::insert(&mut *tx, &new_question(pack, row.text.as_str(), first + offset, now_ms)).await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// The refusal of a CSV import whose request alone shows that its file is over
/// [`MAX_IMPORT_BYTES`]; the HTTP layer answers with it before the server function runs.
pub fn oversized_import() -> AppError {
    invalid_csv(format!("The file is too big; an import takes at most {}.", size_text(MAX_IMPORT_BYTES)))
}

/// One question of an import, with the line of the file it is on.
#[derive(Debug)]
struct ImportRow {
    line: u64,
    text: QuestionText,
}

/// Refuses a file over [`MAX_IMPORT_BYTES`] before any of it is read as CSV.
fn check_import_size(csv_text: &str) -> Result<(), AppError> {
    if csv_text.len() > MAX_IMPORT_BYTES {
        return Err(invalid_csv(format!(
            "The file is {}; an import takes at most {}.",
            size_text(csv_text.len()),
            size_text(MAX_IMPORT_BYTES)
        )));
    }
    Ok(())
}

/// Reads an import, collecting every problem with its line number. Reading stops at the first
/// question past [`MAX_IMPORT_ROWS`]; each question is looked up once in a set of the pack's
/// and the file's earlier ones, so the work grows in step with the file.
fn parse_import(csv_text: &str, existing: &[Question]) -> Result<Vec<ImportRow>, AppError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(csv_text.as_bytes());
    // Each question met so far by its normalised text, with its line (0: already in the pack).
    let mut seen: HashMap<String, u64> = existing.iter().map(|q| (normalised(&q.text), 0)).collect();
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut questions_read = 0_usize;
    // A `question` header is the first line with anything on it, after any blank ones.
    let mut header_possible = true;
    for record in reader.records() {
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
        if std::mem::take(&mut header_possible)
            && record.len() == 1
            && record[0].trim().eq_ignore_ascii_case("question")
        {
            continue;
        }
        questions_read += 1;
        if questions_read > MAX_IMPORT_ROWS {
            return Err(invalid_csv(format!(
                "The file has more than {MAX_IMPORT_ROWS} questions; an import takes at most {MAX_IMPORT_ROWS}."
            )));
        }
        if record.len() != 1 {
            problems.push(format!("line {line}: expected one column (the question), found {}", record.len()));
            continue;
        }
        match QuestionText::parse(&record[0]) {
            Err(AppError::Invalid { message, .. }) => problems.push(format!("line {line}: {message}")),
            Err(other) => return Err(other),
            Ok(text) => {
                let key = normalised(text.as_str());
                match seen.get(&key).copied() {
                    Some(0) => problems.push(format!("line {line}: already in the pack")),
                    Some(first) => problems.push(format!("line {line}: same question as line {first}")),
                    None => {
                        seen.insert(key, line);
                        rows.push(ImportRow { line, text });
                    }
                }
            }
        }
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push("the file has no questions".to_owned());
    }
    if problems.is_empty() { Ok(rows) } else { Err(invalid_csv(problems.join("; "))) }
}

fn invalid_csv(message: String) -> AppError {
    AppError::Invalid { field: "csv".into(), message }
}

/// A file size as people read it, rounded up so that a file over a limit never reads as the
/// limit itself: "480 KB", "2.1 MB".
fn size_text(bytes: usize) -> String {
    let kilobytes = bytes.div_ceil(1_000);
    if kilobytes < 1_000 {
        return format!("{kilobytes} KB");
    }
    let tenths = bytes.div_ceil(100_000);
    format!("{}.{} MB", tenths / 10, tenths % 10)
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
    normalised(a) == normalised(b)
}

/// A question's text as duplicates are found: two questions differing only in case are one.
fn normalised(text: &str) -> String {
    text.to_lowercase()
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
        let rows = parse_import("\"Cats, dogs or neither?\"\nBest view?\n\n", &[]).unwrap();
        let texts: Vec<&str> = rows.iter().map(|row| row.text.as_str()).collect();
        assert_eq!(texts, ["Cats, dogs or neither?", "Best view?"]);
        assert!(parse_import("question\n", &[]).is_err(), "an empty file is refused");
    }

    #[test]
    fn the_header_may_follow_blank_lines_and_a_later_question_line_is_a_question() {
        let rows = parse_import("  \n\nQuestion\nBest view?\n", &[]).unwrap();
        let texts: Vec<&str> = rows.iter().map(|row| row.text.as_str()).collect();
        assert_eq!(texts, ["Best view?"], "the header after blank lines is not imported");
        let rows = parse_import("Best view?\nquestion\n", &[]).unwrap();
        assert_eq!(rows.len(), 2, "only the first line with content can be the header");
    }

    #[test]
    fn a_file_over_the_size_limit_is_refused_before_it_is_read() {
        let at_the_limit = "Q?\n".repeat(MAX_IMPORT_BYTES / 3);
        let over_it = format!("{at_the_limit}Q?\n");

        let Err(AppError::Invalid { field, message }) = check_import_size(&over_it) else { panic!("refused") };

        assert_eq!(field, "csv");
        assert_eq!(message, "The file is 501 KB; an import takes at most 500 KB.");
        assert_eq!(check_import_size(&at_the_limit), Ok(()));
        let two_megabytes = "Q?\n".repeat(700_000);
        let Err(AppError::Invalid { message, .. }) = check_import_size(&two_megabytes) else { panic!("refused") };
        assert_eq!(message, "The file is 2.1 MB; an import takes at most 500 KB.");
    }

    #[test]
    fn reading_stops_at_the_first_question_past_the_row_limit() {
        let allowed: String = (1..=MAX_IMPORT_ROWS).map(|n| format!("Question {n}?\n")).collect();
        // One question too many, then a bad line that is never read.
        let too_many = format!("question\n{allowed}One more?\n\"a\",\"b\"\n");

        let refused = parse_import(&too_many, &[]);

        let Err(AppError::Invalid { message, .. }) = refused else { panic!("refused: {refused:?}") };
        assert_eq!(message, "The file has more than 500 questions; an import takes at most 500.");
        assert_eq!(parse_import(&allowed, &[]).map(|rows| rows.len()), Ok(MAX_IMPORT_ROWS));
    }

    #[test]
    fn every_repeat_in_a_full_file_names_the_line_it_repeats() {
        // Lines 2 to 251 are new questions; lines 252 to 501 repeat them in capitals.
        let half = MAX_IMPORT_ROWS / 2;
        let rows: String = (0..MAX_IMPORT_ROWS)
            .map(|n| if n < half { format!("Question {n}?\n") } else { format!("QUESTION {}?\n", n - half) })
            .collect();

        let refused = parse_import(&format!("question\n{rows}"), &[]);

        let Err(AppError::Invalid { message, .. }) = refused else { panic!("refused: {refused:?}") };
        assert_eq!(message.matches("same question as line").count(), half, "{message}");
        assert!(message.starts_with("line 252: same question as line 2;"), "{message}");
        assert!(message.ends_with("line 501: same question as line 251"), "{message}");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::{features::packs::types::MAX_QUESTION_CHARS, fuzzing};

    /// Lines an import often has: questions, their repeats in other letter cases, headers,
    /// blanks, quoted commas and more than one column.
    const LINES: &[&str] =
        &["Tea?", "tea?", "TEA?", " Coffee? ", "coffee?", "question", "Question", "", "  ", "\"Cats, dogs?\"", "a,b"];
    /// Questions a pack may already have.
    const EXISTING: &[&str] = &["Tea?", "Coffee?", "Biscuits?"];

    fn pack() -> PackId {
        PackId::parse("p").unwrap()
    }

    /// A few questions already in the pack, some of which the file's lines repeat.
    fn existing() -> impl Strategy<Value = Vec<Question>> {
        prop::collection::vec(prop::sample::select(EXISTING), 0..3).prop_map(|texts| {
            (1_i64..).zip(texts).map(|(position, text)| new_question(&pack(), text, position, 0)).collect::<Vec<_>>()
        })
    }

    /// Any text, or lines of likely and unlikely cells.
    fn csv_text() -> impl Strategy<Value = String> {
        let line =
            prop_oneof![prop::sample::select(LINES).prop_map(String::from), "[a-zA-Z ?]{0,12}", fuzzing::text(40)];
        prop_oneof![fuzzing::text(400), prop::collection::vec(line, 0..30).prop_map(|lines| lines.join("\n"))]
    }

    /// A valid question: trimmed, on one line, within the limit.
    fn question() -> impl Strategy<Value = String> {
        "[^\n\r]{1,300}".prop_map(|text| text.trim().to_owned()).prop_filter("not blank", |text| !text.is_empty())
    }

    /// The questions as a CSV file, one a line under a `question` header.
    fn written(questions: &[String], crlf: bool) -> String {
        let terminator = if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') };
        let mut writer = csv::WriterBuilder::new().terminator(terminator).from_writer(Vec::new());
        writer.write_record(["question"]).unwrap();
        for question in questions {
            writer.write_record([question]).unwrap();
        }
        String::from_utf8(writer.into_inner().unwrap()).unwrap()
    }

    fn distinct(texts: Vec<String>) -> Vec<String> {
        let mut seen = HashSet::new();
        texts.into_iter().filter(|text| seen.insert(normalised(text))).collect()
    }

    proptest! {
        #![proptest_config(fuzzing::config(256))]

        #[test]
        fn any_import_is_questions_that_fit_or_a_list_of_problems(file in csv_text(), existing in existing()) {
            match parse_import(&file, &existing) {
                Ok(rows) => {
                    prop_assert!(!rows.is_empty());
                    prop_assert!(rows.len() <= MAX_IMPORT_ROWS);
                    let mut seen: HashSet<String> = existing.iter().map(|q| normalised(&q.text)).collect();
                    let mut previous_line = 1_u64;
                    for row in &rows {
                        let text = row.text.as_str();
                        prop_assert!(!text.is_empty());
                        prop_assert_eq!(text, text.trim());
                        prop_assert!(text.chars().count() <= MAX_QUESTION_CHARS);
                        prop_assert!(!text.contains(['\n', '\r']));
                        prop_assert!(seen.insert(text.to_lowercase()), "{:?} is twice in the pack", text);
                        // Not strictly: lines are counted by `\n`, so a file ended by bare `\r`s
                        // has every row on line 1.
                        prop_assert!(row.line >= previous_line, "rows keep the file's order");
                        previous_line = row.line;
                    }
                }
                Err(AppError::Invalid { field, message }) => {
                    prop_assert_eq!(field, "csv");
                    prop_assert!(!message.is_empty());
                }
                Err(other) => return Err(TestCaseError::fail(format!("not a refusal of the file: {other:?}"))),
            }
        }

        #[test]
        fn a_written_pack_imports_as_the_same_questions_in_order(
            texts in prop::collection::vec(question(), 1..12),
            crlf in any::<bool>(),
            byte_order_mark in any::<bool>(),
        ) {
            let questions = distinct(texts);
            let mut file = written(&questions, crlf);
            // Spreadsheets often start a UTF-8 export with one.
            if byte_order_mark {
                file.insert(0, '\u{feff}');
            }

            let imported = parse_import(&file, &[]);

            let texts = imported.map(|rows| rows.iter().map(|row| row.text.as_str().to_owned()).collect::<Vec<_>>());
            prop_assert_eq!(texts, Ok(questions));
        }

        #[test]
        fn a_question_repeated_in_other_letter_case_is_refused_naming_its_first_line(
            texts in prop::collection::vec(question(), 1..12),
            pick in any::<prop::sample::Index>(),
        ) {
            let mut questions = distinct(texts);
            let first = pick.index(questions.len());
            questions.push(questions[first].to_ascii_uppercase());
            // The header is line 1.
            let (first_line, repeat_line) = (first + 2, questions.len() + 1);

            let refused = parse_import(&written(&questions, false), &[]);

            let Err(AppError::Invalid { message, .. }) = refused else {
                return Err(TestCaseError::fail(format!("not refused: {refused:?}")));
            };
            prop_assert_eq!(message, format!("line {repeat_line}: same question as line {first_line}"));
        }

        #[test]
        fn a_file_size_past_the_limit_never_reads_as_the_limit(
            bytes in prop_oneof![MAX_IMPORT_BYTES + 1..MAX_IMPORT_BYTES * 3, MAX_IMPORT_BYTES + 1..=usize::MAX],
        ) {
            prop_assert_ne!(size_text(bytes), size_text(MAX_IMPORT_BYTES));
        }
    }
}
