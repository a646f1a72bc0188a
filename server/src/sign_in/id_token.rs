//! Verifying the ID token "Sign in with Slack" (OpenID Connect) hands back: an RS256 JWT
//! signed by one of Slack's published keys, issued by `https://slack.com` to this app, not
//! expired, and carrying the nonce this sign-in started with. Only then do its team and user
//! ids say who is signing in.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use app::server::secret::constant_time_eq;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::Deserialize;
use tokio::sync::Mutex;

/// The issuer every Slack ID token names.
pub const SLACK_ISSUER: &str = "https://slack.com";
/// Where Slack publishes its ID-token signing keys.
pub const SLACK_JWKS_URL: &str = "https://slack.com/openid/connect/keys";

/// The only signature algorithm accepted, as Slack's header writes it.
const RS256: &str = "RS256";
/// How long after `exp` a token is still accepted, for clocks that disagree a little.
const EXPIRY_LEEWAY_SECS: i64 = 60;
/// The shortest time between two fetches of the key set, so tokens naming made-up key ids
/// cannot make us hammer Slack.
const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// How long one fetch of the key set may take; verifications wait for it.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `alg` repeated in an error: the header is the sender's, keep what we echo short.
const MAX_ALG_ECHO: usize = 16;
/// Slack's claim naming the workspace.
const TEAM_ID_CLAIM: &str = "https://slack.com/team_id";

/// Slack's published signing keys (JWKS), fetched on first use and cached by key id; an
/// unknown kid triggers one refetch, at most once a minute.
#[derive(Clone)]
pub struct SlackKeys {
    inner: Arc<KeySource>,
}

/// Where the keys come from, and those fetched so far.
struct KeySource {
    jwks_url: String,
    http: reqwest::Client,
    // An async lock: held across a fetch, so concurrent sign-ins share one request.
    cache: Mutex<KeyCache>,
}

/// The keys of the last successful fetch, by key id.
#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

impl std::fmt::Debug for SlackKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackKeys").field("jwks_url", &self.inner.jwks_url).finish_non_exhaustive()
    }
}

impl SlackKeys {
    /// Keys published at `jwks_url` ([`SLACK_JWKS_URL`] for real Slack), fetched with `http`.
    pub fn new(jwks_url: impl Into<String>, http: reqwest::Client) -> SlackKeys {
        let source = KeySource { jwks_url: jwks_url.into(), http, cache: Mutex::new(KeyCache::default()) };
        SlackKeys { inner: Arc::new(source) }
    }

    /// The key `kid` names: from the cache, else from a fresh fetch unless the last one was
    /// under a minute ago.
    async fn key(&self, kid: &str) -> Result<DecodingKey, IdTokenError> {
        let mut cache = self.inner.cache.lock().await;
        if let Some(key) = cache.keys.get(kid) {
            return Ok(key.clone());
        }
        if cache.fetched_at.is_some_and(|at| at.elapsed() < MIN_REFETCH_INTERVAL) {
            return Err(IdTokenError::UnknownKey);
        }
        let keys = self.fetch().await?;
        *cache = KeyCache { keys, fetched_at: Some(Instant::now()) };
        cache.keys.get(kid).cloned().ok_or(IdTokenError::UnknownKey)
    }

    /// Fetches the key set and keeps its RS256 signing keys.
    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, IdTokenError> {
        let unavailable = IdTokenError::KeysUnavailable;
        let response = self
            .inner
            .http
            .get(self.inner.jwks_url.as_str())
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .map_err(|error| unavailable(format!("could not fetch the key set: {error}")))?;
        let status = response.status();
        if !status.is_success() {
            return Err(unavailable(format!("the key set answered HTTP {status}")));
        }
        let body =
            response.bytes().await.map_err(|error| unavailable(format!("could not read the key set: {error}")))?;
        let jwks: Jwks = serde_json::from_slice(&body)
            .map_err(|error| unavailable(format!("the key set is not a JWKS: {error}")))?;
        Ok(signing_keys(jwks))
    }
}

/// A key set as published: `{"keys": [...]}`.
#[derive(Debug, Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

/// One published key; fields other than an RSA key's are ignored.
#[derive(Debug, Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// The set's RS256 signing keys by key id. Keys of another kind or use, without a kid, or
/// with an unreadable modulus or exponent are skipped: one odd key must not lock everyone out.
fn signing_keys(jwks: Jwks) -> HashMap<String, DecodingKey> {
    jwks.keys
        .into_iter()
        .filter_map(|jwk| {
            let is_rs256 = jwk.kty == "RSA" && jwk.alg.as_deref().is_none_or(|alg| alg == RS256);
            let is_for_signing = jwk.usage.as_deref().is_none_or(|usage| usage == "sig");
            if !(is_rs256 && is_for_signing) {
                return None;
            }
            let key = DecodingKey::from_rsa_components(jwk.n.as_deref()?, jwk.e.as_deref()?).ok()?;
            Some((jwk.kid?, key))
        })
        .collect()
}

/// What a token must match besides Slack's signature.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// This app's Slack client id: the token's audience.
    pub client_id: &'a str,
    /// The nonce this sign-in sent to Slack's authorize page.
    pub nonce: &'a str,
    /// The current time in Unix seconds, from the app's clock.
    pub now_secs: i64,
}

/// Who a verified ID token says is signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackIdentity {
    /// The Slack workspace (`T…`).
    pub team_id: String,
    /// The member within it (`U…`).
    pub user_id: String,
    /// Their name as their Slack profile shows it.
    pub name: Option<String>,
    /// Their email address, as verified by Slack.
    pub email: Option<String>,
}

/// Why an ID token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdTokenError {
    /// Not three base64url parts with JSON inside.
    #[error("the ID token is not a well-formed JWT")]
    Malformed,
    /// Signed with something other than RS256, `none` included.
    #[error("the ID token uses the {0} algorithm, but only RS256 is accepted")]
    Algorithm(String),
    /// No kid, or a kid Slack does not publish.
    #[error("the ID token names no signing key Slack publishes")]
    UnknownKey,
    /// The published key did not make this signature: forged or altered.
    #[error("the ID token's signature does not match Slack's key")]
    Signature,
    /// `iss` is not `https://slack.com`.
    #[error("the ID token was not issued by https://slack.com")]
    Issuer,
    /// `aud` is not this app's client id.
    #[error("the ID token was issued to another app")]
    Audience,
    /// `exp` passed more than a minute ago.
    #[error("the ID token has expired")]
    Expired,
    /// The nonce is missing or is not this sign-in's: a replayed or foreign token.
    #[error("the ID token's nonce does not match this sign-in")]
    Nonce,
    /// A claim this module needs is absent (its name is given).
    #[error("the ID token has no {0} claim")]
    MissingClaim(&'static str),
    /// Slack's key set could not be fetched; the reason names no secret.
    #[error("Slack's signing keys are unavailable: {0}")]
    KeysUnavailable(String),
}

/// Verifies a Sign in with Slack ID token and returns who it identifies.
pub async fn verify(id_token: &str, keys: &SlackKeys, expected: &Expected<'_>) -> Result<SlackIdentity, IdTokenError> {
    let kid = rs256_key_id(id_token)?;
    let key = keys.key(&kid).await?;
    let claims = signed_claims(id_token, &key, expected.client_id)?;
    check_expiry(claims.exp, expected.now_secs)?;
    check_nonce(claims.nonce.as_deref(), expected.nonce)?;
    identity(claims)
}

/// The key id in an RS256 token's header; any other algorithm is refused before any key is
/// looked up.
fn rs256_key_id(id_token: &str) -> Result<String, IdTokenError> {
    let alg = written_alg(id_token)?;
    if alg != RS256 {
        return Err(IdTokenError::Algorithm(alg.chars().take(MAX_ALG_ECHO).collect()));
    }
    let header = jsonwebtoken::decode_header(id_token).map_err(|_| IdTokenError::Malformed)?;
    if header.alg != Algorithm::RS256 {
        return Err(IdTokenError::Algorithm(format!("{:?}", header.alg)));
    }
    header.kid.ok_or(IdTokenError::UnknownKey)
}

/// The header's `alg` as written. Read by hand because jsonwebtoken knows no `none`
/// algorithm and would call such a token malformed, hiding what is wrong with it.
fn written_alg(id_token: &str) -> Result<String, IdTokenError> {
    #[derive(Deserialize)]
    struct WrittenHeader {
        alg: String,
    }
    let (encoded, _) = id_token.split_once('.').ok_or(IdTokenError::Malformed)?;
    let json = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| IdTokenError::Malformed)?;
    let header: WrittenHeader = serde_json::from_slice(&json).map_err(|_| IdTokenError::Malformed)?;
    Ok(header.alg)
}

/// The claims of an ID token, as this module reads them.
#[derive(Debug, Deserialize)]
struct Claims {
    exp: Option<i64>,
    nonce: Option<String>,
    sub: Option<String>,
    #[serde(rename = "https://slack.com/team_id")]
    team_id: Option<String>,
    #[serde(rename = "https://slack.com/user_id")]
    user_id: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

/// The claims, once the signature, issuer and audience check out.
fn signed_claims(id_token: &str, key: &DecodingKey, client_id: &str) -> Result<Claims, IdTokenError> {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[SLACK_ISSUER]);
    validation.set_audience(&[client_id]);
    // jsonwebtoken skips the issuer and audience checks when the claim is absent, unless
    // the claim is required.
    validation.set_required_spec_claims(&["iss", "aud"]);
    // Expiry is judged by the app's clock (`check_expiry`), which tests control; not the system's.
    validation.validate_exp = false;
    jsonwebtoken::decode::<Claims>(id_token, key, &validation)
        .map(|data| data.claims)
        .map_err(|error| refusal(error.kind()))
}

/// The refusal a jsonwebtoken error amounts to.
fn refusal(kind: &ErrorKind) -> IdTokenError {
    match kind {
        ErrorKind::InvalidSignature => IdTokenError::Signature,
        ErrorKind::InvalidIssuer => IdTokenError::Issuer,
        ErrorKind::InvalidAudience => IdTokenError::Audience,
        ErrorKind::ExpiredSignature => IdTokenError::Expired,
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "iss" => IdTokenError::MissingClaim("iss"),
            "aud" => IdTokenError::MissingClaim("aud"),
            _ => IdTokenError::Malformed,
        },
        _ => IdTokenError::Malformed,
    }
}

/// Refuses a token whose `exp` is more than the leeway before `now_secs`.
fn check_expiry(exp: Option<i64>, now_secs: i64) -> Result<(), IdTokenError> {
    let exp = exp.ok_or(IdTokenError::MissingClaim("exp"))?;
    if now_secs > exp.saturating_add(EXPIRY_LEEWAY_SECS) {
        return Err(IdTokenError::Expired);
    }
    Ok(())
}

/// Refuses a token without this sign-in's nonce, compared in constant time. An empty expected
/// nonce matches nothing, so a caller that lost its nonce cannot accept any token.
fn check_nonce(nonce: Option<&str>, expected: &str) -> Result<(), IdTokenError> {
    match nonce {
        Some(nonce) if !expected.is_empty() && constant_time_eq(nonce.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(IdTokenError::Nonce),
    }
}

/// The team and member the claims name; Slack's own user-id claim is preferred to `sub`.
fn identity(claims: Claims) -> Result<SlackIdentity, IdTokenError> {
    let team_id = claims.team_id.filter(|id| !id.is_empty()).ok_or(IdTokenError::MissingClaim(TEAM_ID_CLAIM))?;
    let user_id = claims.user_id.or(claims.sub).filter(|id| !id.is_empty()).ok_or(IdTokenError::MissingClaim("sub"))?;
    Ok(SlackIdentity { team_id, user_id, name: claims.name, email: claims.email })
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Mutex as StdMutex,
        atomic::{AtomicUsize, Ordering},
    };

    use axum::{Json, Router, extract::State, routing::get};
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::{Value, json};

    use super::*;
    use crate::emulator::openid;

    const CLIENT_ID: &str = "1000000001.test";
    const NONCE: &str = "n-4f1c9e";
    const NOW: i64 = 1_750_000_000;
    const EMULATOR_KEY_PEM: &str = include_str!("../emulator/openid_key.pem");
    const OTHER_KEY_PEM: &str = include_str!("testdata/other_key.pem");

    /// A local stand-in for Slack's key endpoint that a test can rotate, counting its fetches.
    #[derive(Clone)]
    struct KeyServer {
        jwks: Arc<StdMutex<Value>>,
        fetches: Arc<AtomicUsize>,
    }

    impl KeyServer {
        /// Serves `jwks` on a free port; returns the server and keys pointed at it.
        async fn start(jwks: Value) -> (KeyServer, SlackKeys) {
            let server = KeyServer { jwks: Arc::new(StdMutex::new(jwks)), fetches: Arc::default() };
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/keys", listener.local_addr().unwrap());
            let router = Router::new().route("/keys", get(serve_keys)).with_state(server.clone());
            tokio::spawn(async move { axum::serve(listener, router).await });
            (server, SlackKeys::new(url, reqwest::Client::new()))
        }

        fn publish(&self, jwks: Value) {
            *self.jwks.lock().unwrap() = jwks;
        }

        fn fetches(&self) -> usize {
            self.fetches.load(Ordering::SeqCst)
        }
    }

    async fn serve_keys(State(server): State<KeyServer>) -> Json<Value> {
        server.fetches.fetch_add(1, Ordering::SeqCst);
        Json(server.jwks.lock().unwrap().clone())
    }

    impl SlackKeys {
        /// Moves the last fetch into the past, as if time had passed.
        async fn pretend_last_fetch_was(&self, ago: Duration) {
            self.inner.cache.lock().await.fetched_at = Instant::now().checked_sub(ago);
        }
    }

    /// The emulator's key set with its one key renamed.
    fn emulator_jwks_as(kid: &str) -> Value {
        let mut jwks = openid::jwks();
        jwks["keys"][0]["kid"] = json!(kid);
        jwks
    }

    /// Claims as Slack issues them to this app for this sign-in.
    fn claims() -> Value {
        json!({
            "iss": "https://slack.com",
            "aud": CLIENT_ID,
            "sub": "UDEMO004",
            "https://slack.com/user_id": "UDEMO004",
            "https://slack.com/team_id": "TDEMO0001",
            "name": "Priya Natarajan",
            "email": "priya@northwind.example",
            "iat": NOW - 10,
            "exp": NOW + 3600,
            "nonce": NONCE,
        })
    }

    fn claims_with(field: &str, value: Value) -> Value {
        let mut claims = claims();
        claims[field] = value;
        claims
    }

    fn claims_without(field: &str) -> Value {
        let mut claims = claims();
        claims.as_object_mut().unwrap().remove(field);
        claims
    }

    /// An RS256 token signed with the private key in `pem`, naming `kid`.
    fn signed_with(pem: &str, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap()).unwrap()
    }

    fn expected() -> Expected<'static> {
        Expected { client_id: CLIENT_ID, nonce: NONCE, now_secs: NOW }
    }

    /// Verifies `token` against a fresh key server publishing the emulator's key.
    async fn verify_against_emulator_keys(token: &str) -> Result<SlackIdentity, IdTokenError> {
        let (_server, keys) = KeyServer::start(openid::jwks()).await;
        verify(token, &keys, &expected()).await
    }

    #[tokio::test]
    async fn a_token_signed_by_a_published_key_gives_the_team_and_member() {
        let token = openid::sign_id_token(&claims());

        let identity = verify_against_emulator_keys(&token).await;

        assert_eq!(
            identity,
            Ok(SlackIdentity {
                team_id: "TDEMO0001".to_owned(),
                user_id: "UDEMO004".to_owned(),
                name: Some("Priya Natarajan".to_owned()),
                email: Some("priya@northwind.example".to_owned()),
            })
        );
    }

    #[tokio::test]
    async fn without_slacks_user_id_claim_the_member_is_the_subject() {
        let mut without_user_id = claims_without("https://slack.com/user_id");
        without_user_id["sub"] = json!("USUBJECT1");
        let token = openid::sign_id_token(&claims_with("sub", json!("USUBJECT1")));
        let token_without_user_id = openid::sign_id_token(&without_user_id);

        let preferred = verify_against_emulator_keys(&token).await.unwrap();
        let fallback = verify_against_emulator_keys(&token_without_user_id).await.unwrap();

        assert_eq!(preferred.user_id, "UDEMO004");
        assert_eq!(fallback.user_id, "USUBJECT1");
    }

    #[tokio::test]
    async fn a_token_signed_by_another_key_under_the_published_kid_has_a_bad_signature() {
        let token = signed_with(OTHER_KEY_PEM, openid::KEY_ID, &claims());

        assert_eq!(verify_against_emulator_keys(&token).await, Err(IdTokenError::Signature));
    }

    #[tokio::test]
    async fn a_token_issued_to_another_app_is_refused() {
        let token = openid::sign_id_token(&claims_with("aud", json!("2000000002.someone-else")));

        assert_eq!(verify_against_emulator_keys(&token).await, Err(IdTokenError::Audience));
    }

    #[tokio::test]
    async fn a_token_from_another_issuer_is_refused() {
        let token = openid::sign_id_token(&claims_with("iss", json!("https://slack.example")));

        assert_eq!(verify_against_emulator_keys(&token).await, Err(IdTokenError::Issuer));
    }

    #[tokio::test]
    async fn a_token_without_an_issuer_or_audience_is_refused() {
        let no_issuer = openid::sign_id_token(&claims_without("iss"));
        let no_audience = openid::sign_id_token(&claims_without("aud"));

        assert_eq!(verify_against_emulator_keys(&no_issuer).await, Err(IdTokenError::MissingClaim("iss")));
        assert_eq!(verify_against_emulator_keys(&no_audience).await, Err(IdTokenError::MissingClaim("aud")));
    }

    #[tokio::test]
    async fn a_token_expired_over_a_minute_ago_is_refused_but_a_late_clock_is_forgiven() {
        let long_expired = openid::sign_id_token(&claims_with("exp", json!(NOW - EXPIRY_LEEWAY_SECS - 1)));
        let just_expired = openid::sign_id_token(&claims_with("exp", json!(NOW - EXPIRY_LEEWAY_SECS)));
        let without_expiry = openid::sign_id_token(&claims_without("exp"));

        assert_eq!(verify_against_emulator_keys(&long_expired).await, Err(IdTokenError::Expired));
        assert!(verify_against_emulator_keys(&just_expired).await.is_ok());
        assert_eq!(verify_against_emulator_keys(&without_expiry).await, Err(IdTokenError::MissingClaim("exp")));
    }

    #[tokio::test]
    async fn a_token_with_another_sign_ins_nonce_or_none_is_refused() {
        let other_nonce = openid::sign_id_token(&claims_with("nonce", json!("n-000000")));
        let no_nonce = openid::sign_id_token(&claims_without("nonce"));

        assert_eq!(verify_against_emulator_keys(&other_nonce).await, Err(IdTokenError::Nonce));
        assert_eq!(verify_against_emulator_keys(&no_nonce).await, Err(IdTokenError::Nonce));
    }

    #[tokio::test]
    async fn an_unsigned_alg_none_token_is_refused_for_its_algorithm() {
        let encode = |value: &Value| base64::Engine::encode(&URL_SAFE_NO_PAD, value.to_string());
        let header = json!({ "alg": "none", "typ": "JWT", "kid": openid::KEY_ID });
        let token = format!("{}.{}.", encode(&header), encode(&claims()));

        assert_eq!(verify_against_emulator_keys(&token).await, Err(IdTokenError::Algorithm("none".to_owned())));
    }

    #[tokio::test]
    async fn an_hs256_token_is_refused_for_its_algorithm() {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(openid::KEY_ID.to_owned());
        let token =
            jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(openid::KEY_ID.as_bytes())).unwrap();

        assert_eq!(verify_against_emulator_keys(&token).await, Err(IdTokenError::Algorithm("HS256".to_owned())));
    }

    #[tokio::test]
    async fn a_token_that_is_not_a_jwt_is_malformed() {
        assert_eq!(verify_against_emulator_keys("not-a-token").await, Err(IdTokenError::Malformed));
    }

    #[tokio::test]
    async fn an_unknown_kid_is_refused_and_refetches_at_most_once_a_minute() {
        let (server, keys) = KeyServer::start(openid::jwks()).await;
        let token = signed_with(EMULATOR_KEY_PEM, "rapport-emulator-unknown", &claims());

        let first = verify(&token, &keys, &expected()).await;
        let second = verify(&token, &keys, &expected()).await;

        assert_eq!((first, second), (Err(IdTokenError::UnknownKey), Err(IdTokenError::UnknownKey)));
        assert_eq!(server.fetches(), 1, "the second unknown kid within a minute did not refetch");
    }

    #[tokio::test]
    async fn a_key_published_after_a_rotation_is_found_by_the_refetch() {
        let (server, keys) = KeyServer::start(emulator_jwks_as("rapport-emulator-0")).await;
        let before = signed_with(EMULATOR_KEY_PEM, "rapport-emulator-0", &claims());
        assert!(verify(&before, &keys, &expected()).await.is_ok());
        server.publish(openid::jwks());
        keys.pretend_last_fetch_was(MIN_REFETCH_INTERVAL + Duration::from_secs(1)).await;

        let after = verify(&openid::sign_id_token(&claims()), &keys, &expected()).await;

        assert!(after.is_ok(), "{after:?}");
        assert_eq!(server.fetches(), 2);
    }

    #[tokio::test]
    async fn an_unreachable_key_set_is_reported_as_unavailable() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/keys", listener.local_addr().unwrap());
        drop(listener);
        let keys = SlackKeys::new(url, reqwest::Client::new());

        let refused = verify(&openid::sign_id_token(&claims()), &keys, &expected()).await;

        assert!(matches!(refused, Err(IdTokenError::KeysUnavailable(_))), "{refused:?}");
    }
}
