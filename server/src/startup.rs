//! Building and running the application: the same steps for the binary and for tests.

use anyhow::Context as _;
use app::server::{AppState, db::Db};
use tokio::net::TcpListener;

use crate::{config::Config, demo, routes};

/// A bound, ready-to-serve Rapport.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    db: Db,
}

impl Application {
    /// Connects to the database, applies migrations, seeds the demo workspace when the
    /// configuration asks for it, and binds the listening socket (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let db = Db::connect(&config.database_url).await?;
        db.migrate().await?;
        tracing::info!(database.backend = ?db.backend(), "database ready");

        if config.seeds_demo_when_empty()
            && let Some(seeded) = demo::seed_if_empty(&db, app::server::now_ms()).await?
        {
            tracing::info!(
                members = seeded.members,
                answers = seeded.answers,
                "no Slack configured: seeded the demo workspace"
            );
        }

        let listener = TcpListener::bind(config.leptos.site_addr)
            .await
            .with_context(|| {
                format!(
                    "listening on {} (LEPTOS_SITE_ADDR)",
                    config.leptos.site_addr
                )
            })?;
        let state = routes::ServerState {
            leptos: config.leptos,
            app: AppState { db: db.clone() },
        };
        Ok(Application {
            listener,
            router: routes::router(state),
            db,
        })
    }

    /// The port the application listens on.
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|addr| addr.port())
            .unwrap_or_default()
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish and closes the
    /// database pool.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let address = self
            .listener
            .local_addr()
            .context("reading the bound address")?;
        tracing::info!(%address, "Rapport is listening on http://{address}");
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP")?;
        self.db.close().await;
        tracing::info!("Rapport stopped");
        Ok(())
    }
}

/// Completes on Ctrl-C or SIGTERM (what a deploy sends before replacing the process).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
