//! The server under measurement: the release `rapport` binary in its own process, pinned to
//! core 0 (the load runs on the other core). The search benchmark runs it as a hosted install
//! whose Slack is out of reach, so nothing but the benchmark's own requests keeps it busy; the
//! soak runs it with no Slack configured, so the Slack emulator stands in (in a process of its
//! own, `rapport emulator`, on the load's core) and the demo team is asked its questions.

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use tokio::process::{Child, Command};

/// The release site the benchmarks' servers serve and B5 measures, from the workspace root:
/// a site root of its own, which only `make bench-site` writes (`make run` and the browser
/// tests build a debug site into `target/site`). A page links its route's lazy modules from
/// the site's split manifest, so what is built there changes what B2 renders.
pub const RELEASE_SITE_ROOT: &str = "target/site-release";

/// The hosted install's token key: the fleet's tokens are sealed with it (`fleet::create`).
pub const TOKEN_KEY: &str = "YmVuY2gtdG9rZW4ta2V5LW9mLTMyLWJ5dGVzLi4uLi4=";

/// Fixed settings of the hosted install: the benchmark's keys protect nothing.
const HOSTED_ENV: [(&str, &str); 8] = [
    ("SLACK_CLIENT_ID", "bench.client"),
    ("SLACK_CLIENT_SECRET", "bench-client-secret"),
    ("SLACK_SIGNING_SECRET", "bench-signing-secret"),
    // Nothing listens on the discard port: the server never gets to Slack.
    ("SLACK_API_URL", "http://127.0.0.1:9/api"),
    ("RAPPORT_TOKEN_KEY", TOKEN_KEY),
    (
        "RAPPORT_SESSION_KEY",
        "YmVuY2gtc2Vzc2lvbi1rZXktb2YtNjQtYnl0ZXMuLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLg==",
    ),
    ("RAPPORT_DEMO_DATA", "off"),
    ("RUST_LOG", "warn"),
];

/// The core the server under measurement runs on; the load (and the Slack emulator, which
/// stands for Slack) runs on the other.
const SERVER_CORE: usize = 0;
const LOAD_CORE: usize = 1;

/// Prefixes of the variables that choose how Rapport reaches Slack and Stripe. In emulator
/// mode none may come from the benchmark's own environment: one stray `SLACK_` variable
/// stops the server (a partial Slack setup fails closed) or turns the emulator off.
const MODE_PREFIXES: [&str; 3] = ["SLACK_", "STRIPE_", "RAPPORT_"];

/// How the server is configured.
#[derive(Debug, Clone)]
pub enum Environment {
    /// A hosted install whose Slack is out of reach, without demo data (the search benchmark).
    Hosted,
    /// A hosted install whose Slack's Web API answers at `api_url` (B3's round).
    HostedWithSlack { api_url: String },
    /// No Slack or Stripe configured: the emulators stand in and the demo team is seeded.
    /// `settings` are set on top (time scale, the emulator's signing secret, `RUST_LOG`).
    Emulated { settings: Vec<(&'static str, String)> },
}

/// Where the server's output goes.
#[derive(Debug, Clone)]
pub enum Output {
    /// Its log (stdout) is dropped; errors (stderr) show in the benchmark's terminal.
    Terminal,
    /// Its log and errors are appended to this file.
    File(PathBuf),
}

/// How a server stopped.
#[derive(Debug, Clone, Copy)]
pub struct Stopped {
    /// From the signal to its exit.
    pub took: Duration,
    pub status: ExitStatus,
    /// It did not stop within the grace period and was killed.
    pub killed: bool,
}

/// A running server; stopped when dropped.
pub struct Server {
    pub base_url: String,
    child: Child,
}

impl Server {
    /// Starts `binary` as a hosted install on `database_url` at `addr` and waits until
    /// `/readyz` answers.
    pub async fn start(binary: &Path, database_url: &str, addr: &str) -> anyhow::Result<Server> {
        Server::start_with(binary, database_url, addr, &Environment::Hosted, &Output::Terminal).await
    }

    /// Starts `binary` configured by `environment` on `database_url` at `addr`, its output
    /// going to `output`, and waits until `/readyz` answers.
    pub async fn start_with(
        binary: &Path,
        database_url: &str,
        addr: &str,
        environment: &Environment,
        output: &Output,
    ) -> anyhow::Result<Server> {
        let base_url = format!("http://{addr}");
        let core = pinning(SERVER_CORE);
        let mut command = pinned(binary, core);
        configure(&mut command, environment);
        command
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ROOT", RELEASE_SITE_ROOT)
            .env("LEPTOS_SITE_ADDR", addr)
            .env("RAPPORT_PUBLIC_URL", &base_url)
            .kill_on_drop(true);
        Server::launch(command, core, base_url, output, "/readyz")
            .await
            .with_context(|| format!("starting {}", binary.display()))
    }

    /// Starts `binary` as the Slack emulator alone (`rapport emulator`) at `addr`, delivering
    /// to the app at `app_url`, on the load's core (it stands for Slack, not for Rapport), and
    /// waits until its page answers. `environment` as for [`Server::start_with`].
    pub async fn start_emulator(
        binary: &Path,
        addr: &str,
        app_url: &str,
        environment: &Environment,
        output: &Output,
    ) -> anyhow::Result<Server> {
        let base_url = format!("http://{addr}");
        let core = pinning(LOAD_CORE);
        let mut command = pinned(binary, core);
        configure(&mut command, environment);
        command.args(["emulator", "--listen", addr, "--app-url", app_url]).kill_on_drop(true);
        Server::launch(command, core, base_url, output, "/emulator")
            .await
            .with_context(|| format!("starting {} emulator", binary.display()))
    }

    /// Spawns `command` with its output going to `output`, and waits until `ready_path`
    /// answers at `base_url`.
    async fn launch(
        mut command: Command,
        core: Option<usize>,
        base_url: String,
        output: &Output,
        ready_path: &str,
    ) -> anyhow::Result<Server> {
        direct_output(&mut command, output)?;
        let child = command.spawn().context("spawning the process")?;
        let mut server = Server { base_url, child };
        server.wait_until_ready(ready_path).await?;
        if let Some(core) = core {
            server.ensure_pinned(core)?;
        }
        Ok(server)
    }

    /// Fails unless the process may run on `core` alone, as Linux says
    /// (`/proc/<pid>/status`, `Cpus_allowed_list`): a server that shares the load's core
    /// measures the load too, and nothing else would show that pinning did not happen.
    fn ensure_pinned(&self, core: usize) -> anyhow::Result<()> {
        let pid = self.pid().context("the process had already exited")?;
        let allowed = allowed_cores(pid)?;
        anyhow::ensure!(
            allowed == core.to_string(),
            "process {pid} may run on cores {allowed}, not on core {core} alone"
        );
        Ok(())
    }

    /// The server's process id (`taskset` execs the server, so it is the server's own).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Fails if the server has exited: a run that waits for its work would otherwise wait
    /// out its whole limit (or, when another server answers on the same address, measure
    /// that one).
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait().context("checking on the server")? {
            Some(status) => anyhow::bail!("the server stopped ({status})"),
            None => Ok(()),
        }
    }

    /// Waits until `path` answers with success, for at most a minute.
    async fn wait_until_ready(&mut self, path: &str) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the server stopped before it was ready ({status})");
            }
            let ready = client.get(format!("{}{path}", self.base_url)).send().await;
            if ready.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the server was not ready within a minute")
    }

    /// Stops the server at once (SIGKILL) and waits for it to exit.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await.context("stopping the server")
    }

    /// Asks the server to stop as a deploy does (SIGTERM) and waits up to `grace` for it to
    /// finish its requests and background work; past that it is killed.
    pub async fn terminate(mut self, grace: Duration) -> anyhow::Result<Stopped> {
        let pid = self.pid().context("the server had already exited")?;
        let started = Instant::now();
        // tokio's `Child::kill` sends SIGKILL, and `unsafe_code` is forbidden here, so the
        // signal goes through kill(1).
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await
            .context("running kill -TERM on the server")?;
        anyhow::ensure!(sent.success(), "kill -TERM {pid} failed ({sent})");
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(status) => {
                let status = status.context("waiting for the server to exit")?;
                Ok(Stopped { took: started.elapsed(), status, killed: false })
            }
            Err(_) => {
                self.child.kill().await.context("killing the server after its grace period")?;
                let status = self.child.wait().await.context("waiting for the killed server")?;
                Ok(Stopped { took: started.elapsed(), status, killed: true })
            }
        }
    }
}

/// Sets the variables of `environment` on `command`.
fn configure(command: &mut Command, environment: &Environment) {
    match environment {
        Environment::Hosted => {
            command.envs(HOSTED_ENV);
        }
        Environment::HostedWithSlack { api_url } => {
            command.envs(HOSTED_ENV).env("SLACK_API_URL", api_url);
        }
        Environment::Emulated { settings } => {
            for (name, _) in std::env::vars_os() {
                let chooses_mode =
                    name.to_str().is_some_and(|name| MODE_PREFIXES.iter().any(|prefix| name.starts_with(prefix)));
                if chooses_mode {
                    command.env_remove(name);
                }
            }
            command.envs(settings.iter().map(|(name, value)| (*name, value.as_str())));
        }
    }
}

/// Points the server's stdout (its log) and stderr where `output` says.
fn direct_output(command: &mut Command, output: &Output) -> anyhow::Result<()> {
    match output {
        Output::Terminal => {
            command.stdout(Stdio::null()).stderr(Stdio::inherit());
        }
        Output::File(path) => {
            let log = File::options()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening the server log {}", path.display()))?;
            let errors = log.try_clone().with_context(|| format!("sharing the server log {}", path.display()))?;
            command.stdout(log).stderr(errors);
        }
    }
    Ok(())
}

/// `taskset`, which pins the processes the benchmarks start.
const TASKSET: &str = "/usr/bin/taskset";

/// `core`, when a process can be pinned to it: this machine has more than one core (all of
/// them counted, not only the benchmark's own) and taskset.
fn pinning(core: usize) -> Option<usize> {
    (crate::report::machine_cores() > 1 && Path::new(TASKSET).exists()).then_some(core)
}

/// The cores process `pid` may run on, as Linux lists them (`0`, `0-1`).
fn allowed_cores(pid: u32) -> anyhow::Result<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading the status of process {pid}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .map(|list| list.trim().to_owned())
        .with_context(|| format!("process {pid}'s status lists no cores"))
}

/// `binary`, under `taskset -c <core>` when given one.
fn pinned(binary: &Path, core: Option<usize>) -> Command {
    match core {
        Some(core) => {
            let mut command = Command::new(TASKSET);
            command.arg("-c").arg(core.to_string()).arg(binary);
            command
        }
        None => Command::new(binary),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pinned_process_may_run_on_its_core_alone() {
        // Core 0, which every machine has.
        let core = SERVER_CORE;
        let mut sleeper = pinned(Path::new("sleep"), Some(core));
        let mut sleeper = sleeper.arg("10").kill_on_drop(true).spawn().expect("spawning sleep under taskset");
        let pid = sleeper.id().expect("sleep is running");

        // taskset pins itself, then becomes `sleep`: until then the list may still be wider.
        let started = Instant::now();
        let mut allowed = allowed_cores(pid).unwrap();
        while allowed != core.to_string() && started.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            allowed = allowed_cores(pid).unwrap();
        }

        assert_eq!(allowed, core.to_string());
        sleeper.kill().await.unwrap();
    }
}
