//! What the property tests (each a `mod properties` beside the code it tests) share: how many
//! cases they run, a bounded number in `make test` and `PROPTEST_CASES` in `make fuzz`, and
//! the inputs they draw from.

use proptest::prelude::*;

/// `bounded` cases, or `PROPTEST_CASES` when it is set (`make fuzz`). proptest reads the
/// variable only into its default, which an explicit case count would override.
pub fn config(bounded: u32) -> ProptestConfig {
    if std::env::var_os("PROPTEST_CASES").is_some() {
        ProptestConfig::default()
    } else {
        ProptestConfig::with_cases(bounded)
    }
}

/// Any text of up to `max_chars` characters: every char may come, and whitespace (line
/// breaks, no-break and ideographic spaces), commas and quotes come often.
pub fn text(max_chars: usize) -> impl Strategy<Value = String> {
    const OFTEN: &[char] = &[' ', '\t', '\n', '\r', '\u{a0}', '\u{2028}', '\u{3000}', ',', '"', 'q', 'Q'];
    let one_char = prop_oneof![2 => any::<char>(), 1 => prop::sample::select(OFTEN)];
    prop::collection::vec(one_char, 0..=max_chars).prop_map(|chars: Vec<char>| chars.into_iter().collect::<String>())
}

/// Any JSON document, its keys and strings often drawn from `words` so that random
/// documents get past the first `match` of the code under test.
#[cfg(feature = "ssr")]
pub fn json(words: &'static [&'static str]) -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        word(words).prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((word(words), inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// One of `words` most of the time, else any string.
#[cfg(feature = "ssr")]
fn word(words: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![3 => prop::sample::select(words).prop_map(String::from), 1 => any::<String>()]
}
