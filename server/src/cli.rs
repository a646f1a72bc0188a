//! The `rapport` command line: `serve` (the default), `demo`, `migrate`, `help`.

use std::process::ExitCode;

use anyhow::Context as _;
use app::server::db::Db;

use crate::{
    config::Config,
    demo,
    startup::{Application, shutdown_signal},
    telemetry,
};

const USAGE: &str = "\
Usage: rapport [COMMAND]

Commands:
  serve     Start the web server (the default)
  demo      Seed the fictional demo workspace into the database
  migrate   Apply database migrations and exit
  help      Show this message

Configuration comes from environment variables; see README.md.";

/// Runs the command named by `args` and returns the process exit code.
pub async fn run(args: Vec<String>) -> ExitCode {
    let command = match args.first().map(String::as_str) {
        None | Some("serve") => Command::Serve,
        Some("demo") => Command::Demo,
        Some("migrate") => Command::Migrate,
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("rapport: unknown command {other:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.len() > 1 {
        eprintln!("rapport: unexpected arguments after {:?}\n\n{USAGE}", args[0]);
        return ExitCode::from(2);
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("rapport: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    match command.run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "rapport failed");
            ExitCode::FAILURE
        }
    }
}

enum Command {
    Serve,
    Demo,
    Migrate,
}

impl Command {
    async fn run(self, config: Config) -> anyhow::Result<()> {
        match self {
            Command::Serve => Application::build(config).await?.run_until(shutdown_signal()).await,
            Command::Migrate => {
                let db = Db::connect(&config.database_url).await?;
                db.migrate().await?;
                tracing::info!("migrations applied");
                Ok(())
            }
            Command::Demo => {
                let db = Db::connect(&config.database_url).await?;
                db.migrate().await?;
                let outcome = demo::seed(&db, app::server::now_ms()).await.context("seeding the demo workspace")?;
                match outcome {
                    Some(seeded) => println!(
                        "Seeded the demo workspace: {} members, {} questions, {} answers ({} only-me).",
                        seeded.members, seeded.questions, seeded.answers, seeded.only_me_answers
                    ),
                    None => {
                        println!("The demo workspace is already in this database; nothing to do.")
                    }
                }
                Ok(())
            }
        }
    }
}
