//! A signed-in browser for the benchmarks: one cookie jar, one connection reused, every
//! request timed until its whole body has arrived.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use app::server::{db::Db, services::sign_in};

/// Cloned, it shares its sign-in and its connections: requests sent at once from clones go
/// over connections of their own.
#[derive(Clone)]
pub struct Client {
    base_url: String,
    http: reqwest::Client,
}

/// What one timed request gave back.
pub struct Fetched {
    pub took: Duration,
    pub body: String,
}

/// An HTTP client that behaves as a browser the benchmarks drive: one cookie jar, redirects
/// left to the caller (a sign-in answers 303), and a bound on every request.
pub fn browser_http() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
}

impl Client {
    /// Signs in as `member_id` through a one-time link, as `/rapport login` hands out.
    pub async fn signed_in(base_url: &str, db: &Db, workspace_id: &str, member_id: &str) -> anyhow::Result<Client> {
        let http = browser_http()?;
        let client = Client { base_url: base_url.to_owned(), http };
        let token = sign_in::create_link(db, workspace_id, member_id, app::server::now_ms()).await?;
        let path = format!("/login/link/{token}");
        client.get(&path).await.context("opening the sign-in link")?;
        let response = client.http.post(client.url(&path)).send().await?;
        anyhow::ensure!(response.status().as_u16() == 303, "signing in answered {}", response.status());
        Ok(client)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// GETs a page as a browser navigating does; anything but 200 is an error.
    pub async fn get(&self, path: &str) -> anyhow::Result<Fetched> {
        let started = Instant::now();
        let response = self.http.get(self.url(path)).header("accept", "text/html").send().await?;
        Self::finish(path, response, started).await
    }

    /// Calls a server function as the pages do (a form POST); anything but 200 is an error.
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> anyhow::Result<Fetched> {
        let path = format!("/api/{endpoint}");
        let started = Instant::now();
        let response = self.http.post(self.url(&path)).form(form).send().await?;
        Self::finish(&path, response, started).await
    }

    async fn finish(path: &str, response: reqwest::Response, started: Instant) -> anyhow::Result<Fetched> {
        let status = response.status();
        let body = response.text().await?;
        let took = started.elapsed();
        anyhow::ensure!(status.as_u16() == 200, "{path} answered {status}");
        Ok(Fetched { took, body })
    }
}
