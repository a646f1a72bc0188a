//! The server under measurement: the release `rapport` binary in its own process, pinned to
//! core 0 (the load runs on the other core), configured as a hosted install whose Slack is
//! out of reach, so nothing but the benchmark's own requests keeps it busy.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use tokio::process::{Child, Command};

/// Fixed settings: the benchmark's keys protect nothing.
const ENV: [(&str, &str); 8] = [
    ("SLACK_CLIENT_ID", "bench.client"),
    ("SLACK_CLIENT_SECRET", "bench-client-secret"),
    ("SLACK_SIGNING_SECRET", "bench-signing-secret"),
    // Nothing listens on the discard port: the server never gets to Slack.
    ("SLACK_API_URL", "http://127.0.0.1:9/api"),
    ("RAPPORT_TOKEN_KEY", "YmVuY2gtdG9rZW4ta2V5LW9mLTMyLWJ5dGVzLi4uLi4="),
    (
        "RAPPORT_SESSION_KEY",
        "YmVuY2gtc2Vzc2lvbi1rZXktb2YtNjQtYnl0ZXMuLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLg==",
    ),
    ("RAPPORT_DEMO_DATA", "off"),
    ("RUST_LOG", "warn"),
];

/// A running server; stopped when dropped.
pub struct Server {
    pub base_url: String,
    child: Child,
}

impl Server {
    /// Starts `binary` on `database_url` at `addr` and waits until `/readyz` answers.
    pub async fn start(binary: &Path, database_url: &str, addr: &str) -> anyhow::Result<Server> {
        let base_url = format!("http://{addr}");
        let mut command = pinned(binary);
        command
            .envs(ENV)
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ADDR", addr)
            .env("RAPPORT_PUBLIC_URL", &base_url)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let child = command.spawn().with_context(|| format!("starting {}", binary.display()))?;
        let mut server = Server { base_url, child };
        server.wait_until_ready().await?;
        Ok(server)
    }

    async fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the server stopped before it was ready ({status})");
            }
            let ready = client.get(format!("{}/readyz", self.base_url)).send().await;
            if ready.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the server was not ready within a minute")
    }

    /// Stops the server and waits for it to exit.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await.context("stopping the server")
    }
}

/// `binary` under `taskset -c 0` when this machine has more than one core and taskset.
fn pinned(binary: &Path) -> Command {
    let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
    let taskset = PathBuf::from("/usr/bin/taskset");
    if cores > 1 && taskset.exists() {
        let mut command = Command::new(taskset);
        command.arg("-c").arg("0").arg(binary);
        command
    } else {
        Command::new(binary)
    }
}
