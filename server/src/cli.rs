//! The `rapport` command line: `serve` (the default), `demo`, `migrate`, `admin create`,
//! `rotate-token-key`, `backup`, `restore`, `emulator`.
//! Every command has `--help`; configuration comes from the environment (see README.md).

use std::{io::IsTerminal as _, net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use app::{
    features::auth::types::{Email, Password},
    server::{
        db::Db,
        services::{accounts, token_keys},
    },
};
use clap::{Parser, Subcommand};

use crate::{
    backup,
    config::{Config, EmulatorPlace, SlackConfig},
    demo,
    startup::{self, Application, EmulatorAlone, shutdown_signal},
    telemetry,
};

/// Rapport: get to know your coworkers, one question at a time.
#[derive(Debug, Parser)]
#[command(name = "rapport", version, after_help = "Configuration comes from environment variables; see README.md.")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
enum Command {
    /// Start the web server (the default)
    Serve,
    /// Seed the fictional demo workspace into the database
    Demo,
    /// Apply database migrations and exit
    Migrate,
    /// Self-hosted admin accounts
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Hosted mode: seal every stored bot token again with RAPPORT_TOKEN_KEY
    ///
    /// Opens each workspace's bot token with RAPPORT_TOKEN_KEY or RAPPORT_TOKEN_KEY_PREVIOUS,
    /// seals it again with RAPPORT_TOKEN_KEY, and records RAPPORT_TOKEN_KEY as this database's
    /// key, all in one transaction; nothing changes if a token opens with neither key. Run it
    /// with the new key as RAPPORT_TOKEN_KEY and the old one as RAPPORT_TOKEN_KEY_PREVIOUS;
    /// afterwards RAPPORT_TOKEN_KEY_PREVIOUS can be unset.
    RotateTokenKey,
    /// SQLite: write a consistent copy of the database to FILE while Rapport runs
    ///
    /// Copies the database as of one moment with SQLite's VACUUM INTO while the server goes on
    /// working, rebuilds the copy's search indexes, checks it, and prints its size and row
    /// counts. FILE must not exist yet; its folder must. With PostgreSQL use pg_dump instead:
    /// pg_dump --format=custom --file FILE "$DATABASE_URL"
    Backup {
        /// The new file to write the copy to
        file: PathBuf,
    },
    /// SQLite: replace the database with the backup FILE; stop Rapport first
    ///
    /// Refuses while anything has the database open, and refuses a file that is not a sound
    /// SQLite database or comes from a newer Rapport. Puts the backup in the database's place
    /// in one rename, then applies the migrations it lacks. With PostgreSQL, stop Rapport and
    /// use pg_restore instead: pg_restore --clean --if-exists --dbname "$DATABASE_URL" FILE
    Restore {
        /// The backup to put back (written by `rapport backup`)
        file: PathBuf,
    },
    /// Run the Slack emulator in a process of its own, for a Rapport started elsewhere
    ///
    /// Start Rapport with RAPPORT_SLACK_EMULATOR set to this emulator's URL (for example
    /// http://127.0.0.1:3001) and both with the same RAPPORT_EMULATOR_SIGNING_SECRET. The
    /// emulator's workspace then outlives restarts of Rapport, and Rapport's memory and CPU
    /// are its own (the soak test measures them so). RAPPORT_EMULATOR_RATE_LIMITS applies here.
    Emulator {
        /// Where the emulator listens
        #[arg(long, default_value = "127.0.0.1:3001")]
        listen: SocketAddr,
        /// Where Rapport listens (its RAPPORT_PUBLIC_URL): events go there
        #[arg(long, default_value = "http://127.0.0.1:3000")]
        app_url: String,
    },
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
enum AdminCommand {
    /// Create an admin account; the password is read from the terminal (or one line of
    /// stdin), never from the command line
    Create {
        /// The admin's email address
        #[arg(long)]
        email: String,
    },
}

/// Runs the command named by `args` and returns the process exit code.
pub async fn run(args: Vec<String>) -> ExitCode {
    let cli = match Cli::try_parse_from(std::iter::once("rapport".to_owned()).chain(args)) {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version are printed on stdout and exit 0; mistakes exit 2.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("rapport: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    match cli.command.unwrap_or(Command::Serve).run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "rapport failed");
            eprintln!("rapport: {error:#}");
            ExitCode::FAILURE
        }
    }
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
            Command::RotateTokenKey => {
                let resealed = rotate_token_key(&config).await?;
                println!("Re-sealed {resealed} bot token(s) with RAPPORT_TOKEN_KEY.");
                println!("RAPPORT_TOKEN_KEY_PREVIOUS can now be unset.");
                Ok(())
            }
            Command::Backup { file } => {
                let report = backup::backup(&config.database_url, &file).await?;
                println!("{report}");
                Ok(())
            }
            Command::Restore { file } => {
                let report = backup::restore(&config.database_url, &file).await?;
                println!("{report}");
                Ok(())
            }
            Command::Emulator { listen, app_url } => {
                let settings = emulator_alone(&config, app_url)?;
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("listening on {listen} (--listen)"))?;
                startup::run_emulator(listener, settings, shutdown_signal()).await
            }
            Command::Admin(AdminCommand::Create { email }) => {
                let email = Email::parse(&email).map_err(|error| anyhow::anyhow!("{error}"))?;
                let password = read_password().context("reading the password")?;
                let password = Password::parse(&password).map_err(|error| anyhow::anyhow!("{error}"))?;
                let db = Db::connect(&config.database_url).await?;
                db.migrate().await?;
                accounts::create_admin(&db, &email, &password, app::server::now_ms())
                    .await
                    .map_err(|error| anyhow::anyhow!("{error}"))?;
                println!("Created the admin account {}.", email.as_str());
                Ok(())
            }
        }
    }
}

/// `rapport rotate-token-key`: re-seals every stored bot token with the configured
/// `RAPPORT_TOKEN_KEY` (opening each with it or `RAPPORT_TOKEN_KEY_PREVIOUS`); returns how many.
pub async fn rotate_token_key(config: &Config) -> anyhow::Result<u64> {
    let SlackConfig::Hosted { oauth, .. } = &config.slack else {
        anyhow::bail!("rotate-token-key is for hosted mode: set SLACK_CLIENT_ID and RAPPORT_TOKEN_KEY");
    };
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let resealed = token_keys::rotate(&db, &oauth.token_cipher, app::server::now_ms()).await?;
    db.close().await;
    Ok(resealed)
}

/// `rapport emulator`'s settings: the emulator's variables from `config`, the rest from the
/// command line.
fn emulator_alone(config: &Config, app_url: String) -> anyhow::Result<EmulatorAlone> {
    let SlackConfig::Emulator { signing_secret, rate_limits, place } = &config.slack else {
        anyhow::bail!(
            "the emulator stands in for Slack: unset the SLACK_ variables and RAPPORT_SLACK_EMULATOR=off for this command"
        );
    };
    anyhow::ensure!(
        *place == EmulatorPlace::Here,
        "RAPPORT_SLACK_EMULATOR names an emulator elsewhere; that is for the Rapport server, not this command"
    );
    let signing_secret = signing_secret.clone().context(
        "set RAPPORT_EMULATOR_SIGNING_SECRET, to the same value for this command and for the Rapport server",
    )?;
    anyhow::ensure!(
        (app_url.starts_with("http://") || app_url.starts_with("https://")) && !app_url.ends_with('/'),
        "--app-url must be an http(s) URL without a trailing slash, not {app_url:?}"
    );
    Ok(EmulatorAlone { app_url, signing_secret, rate_limits: rate_limits.clone() })
}

/// The new password: typed twice without echo at a terminal, else the first line of stdin
/// (for scripts: `printf '%s\n' "$PASSWORD" | rapport admin create --email …`).
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Command>, clap::Error> {
        Cli::try_parse_from(std::iter::once("rapport").chain(args.iter().copied())).map(|cli| cli.command)
    }

    #[test]
    fn no_command_means_serve_and_each_command_parses() {
        assert_eq!(parse(&[]).unwrap(), None);
        assert_eq!(parse(&["migrate"]).unwrap(), Some(Command::Migrate));
        assert_eq!(parse(&["rotate-token-key"]).unwrap(), Some(Command::RotateTokenKey));
        assert_eq!(
            parse(&["emulator", "--listen", "127.0.0.1:4001", "--app-url", "http://127.0.0.1:4000"]).unwrap(),
            Some(Command::Emulator {
                listen: "127.0.0.1:4001".parse().unwrap(),
                app_url: "http://127.0.0.1:4000".into()
            })
        );
        assert_eq!(
            parse(&["admin", "create", "--email", "ada@example.com"]).unwrap(),
            Some(Command::Admin(AdminCommand::Create { email: "ada@example.com".into() }))
        );
    }

    #[test]
    fn the_emulator_alone_needs_the_secret_the_server_checks_and_no_real_slack() {
        let config = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())).unwrap()
        };
        let app_url = || "http://127.0.0.1:3000".to_owned();
        let secret = ("RAPPORT_EMULATOR_SIGNING_SECRET", "shared");

        let settings =
            emulator_alone(&config(&[secret, ("RAPPORT_EMULATOR_RATE_LIMITS", "chat.postMessage=2")]), app_url());
        let settings = settings.unwrap();
        assert_eq!(settings.app_url, "http://127.0.0.1:3000");
        assert_eq!(settings.rate_limits, [("chat.postMessage".to_owned(), 2)]);
        let without_secret = emulator_alone(&config(&[]), app_url()).unwrap_err();
        assert!(without_secret.to_string().contains("RAPPORT_EMULATOR_SIGNING_SECRET"), "{without_secret}");
        let real_slack = config(&[("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_SIGNING_SECRET", "s")]);
        assert!(emulator_alone(&real_slack, app_url()).is_err());
        let not_a_url = emulator_alone(&config(&[secret]), "127.0.0.1:3000".into()).unwrap_err();
        assert!(not_a_url.to_string().contains("--app-url"), "{not_a_url}");
        assert!(
            emulator_alone(&config(&[secret]), "http://127.0.0.1:3000/".into()).is_err(),
            "as RAPPORT_SLACK_EMULATOR"
        );
    }

    #[test]
    fn a_password_is_never_taken_from_the_command_line() {
        let error = parse(&["admin", "create", "--email", "ada@example.com", "--password", "hunter2hunter2"]);
        assert_eq!(error.unwrap_err().kind(), clap::error::ErrorKind::UnknownArgument);
    }

    #[test]
    fn mistakes_and_help_are_answered_by_clap() {
        assert_eq!(parse(&["launch"]).unwrap_err().kind(), clap::error::ErrorKind::InvalidSubcommand);
        assert_eq!(parse(&["admin", "create"]).unwrap_err().kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert_eq!(parse(&["admin", "--help"]).unwrap_err().kind(), clap::error::ErrorKind::DisplayHelp);
        let help = parse(&["rotate-token-key", "--help"]).unwrap_err();
        assert_eq!(help.kind(), clap::error::ErrorKind::DisplayHelp);
        assert!(help.to_string().contains("RAPPORT_TOKEN_KEY_PREVIOUS"), "{help}");
    }

    #[test]
    fn backup_and_restore_take_one_file_and_name_the_postgresql_tools() {
        assert_eq!(
            parse(&["backup", "backups/rapport.db"]).unwrap(),
            Some(Command::Backup { file: "backups/rapport.db".into() })
        );
        assert_eq!(
            parse(&["restore", "backups/rapport.db"]).unwrap(),
            Some(Command::Restore { file: "backups/rapport.db".into() })
        );
        assert_eq!(parse(&["backup"]).unwrap_err().kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert_eq!(parse(&["restore"]).unwrap_err().kind(), clap::error::ErrorKind::MissingRequiredArgument);
        let backup_help = parse(&["backup", "--help"]).unwrap_err();
        assert_eq!(backup_help.kind(), clap::error::ErrorKind::DisplayHelp);
        assert!(backup_help.to_string().contains("pg_dump"), "{backup_help}");
        let restore_help = parse(&["restore", "--help"]).unwrap_err();
        assert!(restore_help.to_string().contains("stop Rapport first"), "{restore_help}");
        assert!(restore_help.to_string().contains("pg_restore"), "{restore_help}");
    }
}
