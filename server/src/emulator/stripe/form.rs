//! Stripe's parameter encoding: `application/x-www-form-urlencoded` bodies and query strings
//! whose keys name nested fields with brackets (`metadata[workspace_id]`,
//! `line_items[0][price]`, `subscription_data[metadata][workspace_id]`). async-stripe may
//! percent-encode the brackets (`metadata%5Bworkspace_id%5D`); decoding first makes both
//! spellings the same key.

use std::collections::BTreeMap;

/// The decoded parameters of one request, in the order they were sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

/// A body or query string that is not form encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the request's parameters are not form encoded")]
pub struct Malformed;

impl Params {
    /// Decodes a form body or a query string (percent-escapes and `+` for a space).
    pub fn parse(encoded: &[u8]) -> Result<Params, Malformed> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(encoded).map(Params).map_err(|_| Malformed)
    }

    /// The value sent for `key` (`customer`, `line_items[0][price]`); the last one when it
    /// was sent twice.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().rev().find(|(name, _)| name == key).map(|(_, value)| value.as_str())
    }

    /// The value sent for `key`, unless it is empty (Stripe reads an empty value as unset).
    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|value| !value.is_empty())
    }

    /// Whether any key starts with `prefix` (`line_items[1]` to find a second line item).
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.0.iter().any(|(name, _)| name.starts_with(prefix))
    }

    /// The string map sent under `prefix`: `metadata` gathers every `metadata[k]=v`. An
    /// empty value unsets its key, as in Stripe's metadata.
    pub fn map(&self, prefix: &str) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        for (key, value) in &self.0 {
            let Some(name) = key.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('[')?.strip_suffix(']')) else {
                continue;
            };
            if name.is_empty() || name.contains(['[', ']']) {
                continue;
            }
            if value.is_empty() {
                map.remove(name);
            } else {
                map.insert(name.to_owned(), value.clone());
            }
        }
        map
    }

    /// The parameters in a canonical order, to tell whether two requests asked for the same.
    pub fn fingerprint(&self) -> Vec<(String, String)> {
        let mut pairs = self.0.clone();
        pairs.sort();
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracket_keys_are_read_whether_or_not_the_brackets_are_percent_encoded() {
        let plain = b"mode=subscription&line_items[0][price]=price_1&subscription_data[trial_end]=1800000000\
&subscription_data[metadata][workspace_id]=w%201&metadata[a]=b";
        let encoded = b"mode=subscription&line_items%5B0%5D%5Bprice%5D=price_1\
&subscription_data%5Btrial_end%5D=1800000000&subscription_data%5Bmetadata%5D%5Bworkspace_id%5D=w+1\
&metadata%5Ba%5D=b";

        for body in [&plain[..], &encoded[..]] {
            let params = Params::parse(body).unwrap();

            assert_eq!(params.get("mode"), Some("subscription"));
            assert_eq!(params.get("line_items[0][price]"), Some("price_1"));
            assert_eq!(params.get("subscription_data[trial_end]"), Some("1800000000"));
            assert_eq!(
                params.map("subscription_data[metadata]"),
                BTreeMap::from([("workspace_id".to_owned(), "w 1".to_owned())])
            );
            assert_eq!(params.map("metadata"), BTreeMap::from([("a".to_owned(), "b".to_owned())]));
            assert!(params.has_prefix("line_items[0]"));
            assert!(!params.has_prefix("line_items[1]"));
        }
    }

    #[test]
    fn a_map_takes_only_its_own_flat_keys_and_an_empty_value_unsets() {
        let params =
            Params::parse(b"metadata[a]=1&metadata[b]=2&metadata[b]=&metadata[c][d]=3&metadatax[e]=4&metadata[]=5")
                .unwrap();

        assert_eq!(params.map("metadata"), BTreeMap::from([("a".to_owned(), "1".to_owned())]));
        assert_eq!(params.get("metadata[b]"), Some(""));
        assert_eq!(params.text("metadata[b]"), None);
        assert_eq!(params.get("missing"), None);
    }

    #[test]
    fn the_same_parameters_in_another_order_have_the_same_fingerprint() {
        let one = Params::parse(b"name=Acme&metadata[workspace_id]=w1").unwrap();
        let other = Params::parse(b"metadata%5Bworkspace_id%5D=w1&name=Acme").unwrap();
        let different = Params::parse(b"name=Acme&metadata[workspace_id]=w2").unwrap();

        assert_eq!(one.fingerprint(), other.fingerprint());
        assert_ne!(one.fingerprint(), different.fingerprint());
    }
}
