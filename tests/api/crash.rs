//! SIGKILL under load: every webhook that got a 200 is decided exactly once
//! and its notice sent, at most one notice twice per kill.

use crate::helpers::*;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use wiremock::MockServer;

const MESSAGES: usize = 240;
const KILLS: usize = 2;

fn start(db_url: &str, graph: &str) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_sunset"))
        .arg("serve")
        .env(
            "SUNSET_CONFIG",
            format!("{}/sunset.toml", env!("CARGO_MANIFEST_DIR")),
        )
        .env("SUNSET_SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("SUNSET_SERVER__DATABASE_URL", db_url)
        .env("SUNSET_LOCALES__DIR", shipped_locales())
        .env("SUNSET_WHATSAPP__GRAPH_API_BASE", graph)
        // One Graph API call open at a time: a kill can repeat one notice.
        .env("SUNSET_WHATSAPP__MESSAGES_PER_SECOND", "100")
        .env("SUNSET_WHATSAPP__SENDS_IN_FLIGHT", "1")
        .env("SUNSET_CAMPAIGN__MIN_REPLY_INTERVAL", "0s")
        .env("SUNSET_APP_SECRET", APP_SECRET)
        .env("SUNSET_VERIFY_TOKEN", VERIFY_TOKEN)
        .env("SUNSET_ACCESS_TOKEN", ACCESS_TOKEN)
        .env("SUNSET_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("SUNSET_ANALYST_TOKEN", ANALYST_TOKEN)
        .env("SUNSET_SIGNING_KEY", SIGNING_KEY)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let address = format!("http://127.0.0.1:{port}");
    wait_until_listening(port);
    (child, address)
}

/// Posts every message not yet accepted, 8 at a time; returns those that got a 200.
async fn post_all(address: &str, pending: &[usize]) -> Vec<usize> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let address = Arc::new(address.to_owned());
    let mut accepted = vec![];
    for chunk in pending.chunks(8) {
        let posts = chunk.iter().map(|&i| {
            let (client, address) = (client.clone(), Arc::clone(&address));
            async move {
                let body = serde_json::to_vec(&text_message(
                    &format!("1666{i:07}"),
                    &format!("wamid.CRASH{i}"),
                    "hello",
                ))
                .unwrap();
                let signature = sunset::signing::sign_webhook(APP_SECRET, &body);
                let response = client
                    .post(format!("{address}/webhook"))
                    .header("X-Hub-Signature-256", signature)
                    .body(body)
                    .send()
                    .await;
                response.ok().filter(|r| r.status() == 200).map(|_| i)
            }
        });
        accepted.extend(
            futures_util::future::join_all(posts)
                .await
                .into_iter()
                .flatten(),
        );
    }
    accepted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_nothing_and_sends_each_notice_once_but_for_one_per_kill() {
    let graph = MockServer::start().await;
    graph_accepts_messages(&graph).await;
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}/sunset.db", dir.path().display());
    let mut accepted: BTreeSet<usize> = BTreeSet::new();
    for round in 0..=KILLS {
        let (mut child, address) = start(&db_url, &graph.uri());
        let pending: Vec<usize> = (0..MESSAGES).filter(|i| !accepted.contains(i)).collect();
        if round < KILLS {
            // Kill while webhooks and sends are in flight.
            let loader = tokio::spawn({
                let address = address.clone();
                async move { post_all(&address, &pending).await }
            });
            tokio::time::sleep(Duration::from_millis(700 + 300 * round as u64)).await;
            child.kill().unwrap();
            child.wait().unwrap();
            let before = accepted.len();
            accepted.extend(loader.await.unwrap());
            eprintln!(
                "round {round}: killed after {} accepted webhooks",
                accepted.len() - before
            );
        } else {
            accepted.extend(post_all(&address, &pending).await);
            // Meta retries what timed out on a busy machine.
            for _ in 0..5 {
                let left: Vec<usize> = (0..MESSAGES).filter(|i| !accepted.contains(i)).collect();
                if left.is_empty() {
                    break;
                }
                accepted.extend(post_all(&address, &left).await);
            }
            // Let the sender drain, then stop.
            let client = reqwest::Client::new();
            for _ in 0..200 {
                let health: serde_json::Value = client
                    .get(format!("{address}/healthz"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if health["queue"]["depth"] == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
    assert_eq!(
        accepted.len(),
        MESSAGES,
        "every message is accepted in the end, as Meta retries"
    );
    let store = sunset::startup::open_store(&db_url).await.unwrap();
    let mut notice_ids = BTreeSet::new();
    for i in 0..MESSAGES {
        let entry = store
            .log_entry(&format!("wamid.CRASH{i}"))
            .await
            .unwrap()
            .expect("accepted but not stored");
        assert_eq!(entry.decision, "notified");
        assert_eq!(entry.status.as_deref(), Some("sent"), "wamid.CRASH{i}");
        assert!(notice_ids.insert(entry.id));
    }
    let mut sends: BTreeMap<String, usize> = BTreeMap::new();
    for request in graph.received_requests().await.unwrap() {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        *sends
            .entry(body["to"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(sends.len(), MESSAGES, "every user got the notice");
    let twice = sends.values().filter(|n| **n > 1).count();
    eprintln!(
        "{} notices, {twice} sent twice over {KILLS} kills",
        sends.len()
    );
    // Only a call still open at the kill can repeat, and there is one.
    assert!(
        twice <= KILLS,
        "{twice} notices went out twice over {KILLS} kills"
    );
    assert!(sends.values().all(|n| *n <= 2));
}
