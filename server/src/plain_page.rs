//! Small server-made pages in the dashboard's style, for the edges that answer a browser
//! without the Leptos app: an install's outcome, a sign-in's outcome.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use crate::security_headers::SERVER_PAGE_POLICY;

/// A page with a title, one paragraph and a way back to Rapport.
pub fn message(status: StatusCode, title: &str, message: &str) -> Response {
    with_body(status, title, &format!("<p>{}</p><p><a class=button href=/>Go to Rapport</a></p>", escape(message)))
}

/// A page with a title and `body`, HTML the caller built and escaped.
pub fn with_body(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Rapport</title><link rel=stylesheet href=/pkg/rapport.css><link rel=icon href=/favicon.svg></head>\
         <body><main class=page><section class=error-page><h1>{title}</h1>{body}</section></main></body></html>",
        title = escape(title),
    );
    // The dashboard's style sheet, and no script at all.
    let policy = [(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(SERVER_PAGE_POLICY))];
    (status, policy, Html(html)).into_response()
}

/// The page for a failure on our side: logged once here, under the reference it shows.
pub fn internal_error(error: impl Into<anyhow::Error>) -> Response {
    let reference = app::AppError::log_with_reference(error);
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        &format!("Please try again in a moment. If it keeps happening, quote reference {reference}."),
    )
}

/// Text made safe for HTML, in element content and quoted attributes.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_become_markup() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
