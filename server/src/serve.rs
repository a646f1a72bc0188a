//! Serving HTTP with the limits `axum::serve` does not set, so slow or idle clients cannot
//! hold the server: a client has [`HEADER_READ_TIMEOUT`] to send a request's headers, and at
//! most [`MAX_CONNECTIONS`] connections are served at once; more wait in the listening
//! socket's backlog until one closes. A request's body and its handling are bounded by the
//! router's own request timeout.

use std::{io, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use axum::{Extension, Router, extract::ConnectInfo};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::Semaphore,
};
use tower::Layer as _;

/// How long a client may take to send a request's headers, counted from when it connects and
/// again from each response (so it is also how long an idle keep-alive connection stays
/// open; browsers open a new one without a fuss). A browser sends its headers at once, a
/// few KB; 20 s leaves room for a phone on a poor link, while a client that trickles bytes
/// to keep a connection (slowloris) loses it.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(20);

/// How long one request may take before it is answered 503: far more than any page or
/// Slack endpoint needs (Slack itself gives up after 3 s), so only a stuck request hits it.
/// Every router this process serves (the app's, the metrics listener's) applies it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How many connections are served at once. A browser opens up to 6 per site, so 512 serves
/// some 80 people loading pages at the very same moment, many more in practice. Each costs
/// a task, buffers and a file descriptor: 512 stays well under the common soft limit of 1024
/// open files, which the database pool, calls to Slack and Stripe and static files share.
pub const MAX_CONNECTIONS: usize = 512;

/// The limits [`serve`] holds clients to: the constants above, except in tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a client may take to send a request's headers ([`HEADER_READ_TIMEOUT`]).
    pub header_read_timeout: Duration,
    /// How many connections are served at once ([`MAX_CONNECTIONS`]).
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits { header_read_timeout: HEADER_READ_TIMEOUT, max_connections: MAX_CONNECTIONS }
    }
}

/// Serves `router` over HTTP/1.1 on `listener` until `shutdown` completes; then stops
/// accepting, lets each connection finish the request in hand (an idle one closes at once)
/// and returns once all are closed. Handlers see the client's address as
/// `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    // HTTP/1 only: the header timeout is HTTP/1's, and guessing the version would first wait
    // for the client's bytes with no timeout at all.
    let mut http = auto::Builder::new(TokioExecutor::new()).http1_only();
    http.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A free slot first, then a connection: past the limit, clients wait in the kernel's
        // backlog rather than as tasks here.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot.context("the connection slots were closed")?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = accept(&listener) => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    pause_after_failed_accept(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(Extension(ConnectInfo::<SocketAddr>(peer)).layer(router.clone()));
        let connection = connections.watch(http.serve_connection(TokioIo::new(stream), service).into_owned());
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // A client that went away or was too slow: nothing to do about it here.
                tracing::debug!(%error, "a connection ended early");
            }
            drop(slot);
        });
    }
    drop(listener);
    connections.shutdown().await;
    Ok(())
}

/// Accepts a connection whose writes go out as they are made (`TCP_NODELAY`). A page is
/// streamed in several writes; with Nagle's algorithm a write waits while the one before is
/// unacknowledged, and clients delay their acknowledgements by up to 40 ms, so every page
/// after the first on a kept-alive connection took some 40 ms longer (BENCHMARKS.md, B2:
/// "Connections send each write at once").
async fn accept(listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
    let (stream, peer) = listener.accept().await?;
    if let Err(error) = stream.set_nodelay(true) {
        // Still served, only slower; the client may already have gone.
        tracing::debug!(%error, "could not turn off Nagle's algorithm on a connection");
    }
    Ok((stream, peer))
}

/// After a failed accept: a connection the client dropped before it was accepted is its own
/// affair; anything else (most likely too many open files) is logged and retried after a
/// pause, as hyper's server did, rather than in a busy loop.
async fn pause_after_failed_accept(error: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(error.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(%error, "could not accept a connection");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_accepted_connection_sends_each_write_without_waiting() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();

        let (accepted, client) = tokio::join!(accept(&listener), TcpStream::connect(address));

        let (stream, peer) = accepted.unwrap();
        assert!(stream.nodelay().unwrap(), "Nagle's algorithm is off");
        assert_eq!(peer, client.unwrap().local_addr().unwrap());
    }
}
