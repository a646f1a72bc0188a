//! The `rapport` command line: `serve` (the default), `demo`, `migrate`, `admin create`,
//! `rotate-token-key`, `backup`, `restore`.
//! Every command has `--help`; configuration comes from the environment (see README.md).

use std::{io::IsTerminal as _, path::PathBuf, process::ExitCode};

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
    config::{Config, SlackConfig},
    demo,
    startup::{Application, shutdown_signal},
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
            parse(&["admin", "create", "--email", "ada@example.com"]).unwrap(),
            Some(Command::Admin(AdminCommand::Create { email: "ada@example.com".into() }))
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
