//! The HTTP server's limits: a client that is slow to send its headers is disconnected, and
//! connections beyond the limit wait until one closes.

use std::time::Duration;

use server::{config::Config, startup::Application};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

use crate::helpers::{TestApp, TestDb, test_config};

/// How long the tests give the server to act on limits of a second or less: only a server
/// that never acts takes this long.
const WITHIN: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_client_that_stalls_in_the_middle_of_its_headers_is_disconnected() {
    let db = TestDb::sqlite().await;
    let mut config = test_config(&db);
    config.connections.header_read_timeout = Duration::from_secs(1);
    let app = start(config).await;
    let mut stalled = TcpStream::connect(socket_address(&app)).await.unwrap();

    stalled.write_all(b"GET /healthz HT").await.unwrap();
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(WITHIN, stalled.read_to_end(&mut answer)).await;

    assert!(closed.is_ok(), "the server closes the connection of a client that stalls");
    let answer = String::from_utf8_lossy(&answer);
    assert!(!answer.contains(" 200 "), "the half request is not served: {answer}");
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200, "other clients are still served");
}

#[tokio::test]
async fn a_connection_beyond_the_limit_waits_until_another_closes() {
    let db = TestDb::sqlite().await;
    let mut config = test_config(&db);
    config.connections.max_connections = 2;
    let app = start(config).await;
    let first = TcpStream::connect(socket_address(&app)).await.unwrap();
    let second = TcpStream::connect(socket_address(&app)).await.unwrap();
    // A client of its own: none of its connections were opened before the two above.
    let client = reqwest::Client::builder().timeout(WITHIN).build().unwrap();

    let mut third = Box::pin(client.get(format!("{}/healthz", app.address)).send());
    let while_two_are_open = tokio::time::timeout(Duration::from_secs(1), &mut third).await;
    drop(first);
    let once_one_closed = tokio::time::timeout(WITHIN, third).await;

    assert!(while_two_are_open.is_err(), "a third connection is not served while two are open");
    let answer = once_one_closed.expect("the third connection is served once one closes").unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    // Shutting down does not wait for a client that has sent nothing.
    app.shut_down().await;
    drop(second);
}

async fn start(config: Config) -> TestApp {
    TestApp::from_application(Application::build(config).await.unwrap().without_scheduled_rounds())
}

/// `host:port` of the app, for a raw TCP client.
fn socket_address(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}
