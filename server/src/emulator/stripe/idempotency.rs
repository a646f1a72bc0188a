//! The answers to idempotent POSTs: a POST whose `Idempotency-Key` was seen before gets the
//! first answer again instead of acting twice, unless the key was first used for another
//! request. This only decides; the API (`api.rs`) words the refusals in Stripe's shape.

use std::collections::{HashMap, VecDeque};

use axum::http::StatusCode;

use super::form::Params;

/// Idempotency keys remembered; the oldest is forgotten first (Stripe keeps them 24 hours).
const MAX_IDEMPOTENCY_KEYS: usize = 1_000;

/// What a POST with an idempotency key answered the first time.
#[derive(Debug, Clone)]
struct Stored {
    path: String,
    fingerprint: Vec<(String, String)>,
    status: StatusCode,
    body: String,
}

/// What an earlier use of a key means for a new request with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reuse {
    /// The same request again: the first answer's status and body, to send as they were.
    Answer(StatusCode, String),
    /// The key was first used at another endpoint, `first_path` (after `/v1/`).
    OtherPath { first_path: String },
    /// The key was first used at this endpoint with other parameters.
    OtherParams,
}

/// The answers to idempotent POSTs, by key, for the last [`MAX_IDEMPOTENCY_KEYS`] keys.
#[derive(Debug, Default)]
pub struct IdempotencyCache {
    answers: HashMap<String, Stored>,
    order: VecDeque<String>,
}

impl IdempotencyCache {
    /// What the earlier use of `key` means for a request to `path` with `params`; `None`
    /// when the key is new (or forgotten).
    pub fn lookup(&self, key: &str, path: &str, params: &Params) -> Option<Reuse> {
        let stored = self.answers.get(key)?;
        if stored.path != path {
            return Some(Reuse::OtherPath { first_path: stored.path.clone() });
        }
        if stored.fingerprint != params.fingerprint() {
            return Some(Reuse::OtherParams);
        }
        Some(Reuse::Answer(stored.status, stored.body.clone()))
    }

    /// Remembers the answer to a request to `path` with `params` under `key`, forgetting the
    /// oldest key past the limit.
    pub fn store(&mut self, key: &str, path: &str, params: &Params, status: StatusCode, body: &str) {
        let stored = Stored { path: path.to_owned(), fingerprint: params.fingerprint(), status, body: body.to_owned() };
        if self.answers.insert(key.to_owned(), stored).is_none() {
            self.order.push_back(key.to_owned());
        }
        while self.order.len() > MAX_IDEMPOTENCY_KEYS {
            if let Some(oldest) = self.order.pop_front() {
                self.answers.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"id":"cus_1"}"#;

    fn params(encoded: &str) -> Params {
        Params::parse(encoded.as_bytes()).unwrap()
    }

    #[test]
    fn a_key_answers_again_only_for_the_same_endpoint_and_parameters() {
        let mut cache = IdempotencyCache::default();
        cache.store("k1", "customers", &params("name=Acme&metadata[workspace_id]=w1"), StatusCode::OK, BODY);
        let again = Reuse::Answer(StatusCode::OK, BODY.to_owned());
        let elsewhere = Reuse::OtherPath { first_path: "customers".to_owned() };
        let cases = [
            ("k2", "customers", "name=Acme&metadata[workspace_id]=w1", None),
            ("k1", "customers", "metadata%5Bworkspace_id%5D=w1&name=Acme", Some(again)),
            ("k1", "checkout/sessions", "name=Acme&metadata[workspace_id]=w1", Some(elsewhere)),
            ("k1", "customers", "name=Other&metadata[workspace_id]=w1", Some(Reuse::OtherParams)),
        ];

        for (key, path, encoded, expected) in cases {
            assert_eq!(cache.lookup(key, path, &params(encoded)), expected, "{key} {path} {encoded}");
        }
    }

    #[test]
    fn the_oldest_key_is_forgotten_past_the_limit() {
        let mut cache = IdempotencyCache::default();
        let no_params = Params::default();

        for n in 0..=MAX_IDEMPOTENCY_KEYS {
            cache.store(&format!("k{n}"), "customers", &no_params, StatusCode::OK, BODY);
        }

        assert_eq!(cache.lookup("k0", "customers", &no_params), None);
        assert!(cache.lookup("k1", "customers", &no_params).is_some());
        assert!(cache.lookup(&format!("k{MAX_IDEMPOTENCY_KEYS}"), "customers", &no_params).is_some());
    }
}
