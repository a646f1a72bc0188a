//! Wire types of the question pages.

use serde::{Deserialize, Serialize};

use crate::ids::{MemberId, QuestionId};

/// One line of the question list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionSummary {
    pub id: QuestionId,
    pub text: String,
    pub pack: String,
    pub answer_count: i64,
}

/// A question's page: the question and everyone's team-visible answers, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionDetail {
    pub id: QuestionId,
    pub text: String,
    pub pack: String,
    pub answers: Vec<QuestionAnswer>,
}

/// One member's answer on a question's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionAnswer {
    pub member_id: MemberId,
    pub name: String,
    pub title: String,
    pub avatar_url: String,
    pub text: String,
    pub answered_at_ms: i64,
}
