//! Two boxes on one PostgreSQL database: each message decided once, each
//! notice sent once. Runs only with `SUNSET_TEST_DATABASE_URL` set.

use crate::helpers::*;
use futures_util::StreamExt;
use std::collections::HashSet;
use sunset::store::{LogEntry, LogQuery};
use wiremock::MockServer;

const MESSAGES: usize = 200;

/// Up to `limit` log rows after the cursor `after_id`.
async fn log_after(app: &TestApp, after_id: i64, limit: u32) -> Vec<LogEntry> {
    let query = LogQuery {
        after_id,
        limit,
        ..LogQuery::default()
    };
    app.store.log_page(&query).await.unwrap().entries().unwrap()
}

#[tokio::test]
async fn two_boxes_on_one_database_decide_and_send_every_message_once() {
    if std::env::var("SUNSET_TEST_DATABASE_URL").is_err() {
        return;
    }
    let mut box1 = spawn_app().await;
    // The second box takes over the first's Graph API; box1 was built
    // against that server's address and keeps sending to it, so the spare
    // server swapped into its field never receives anything.
    let graph = std::mem::replace(&mut box1.graph, MockServer::start().await);
    graph_accepts_messages(&graph).await;
    let box2 = spawn_app_with(TestOptions {
        reuse_dir: Some(box1.dir_for_restart()),
        graph: Some(graph),
        ..TestOptions::default()
    })
    .await;

    let message = |i: usize| {
        text_message(
            &format!("1555{:07}", 1_000_000 + i),
            &format!("wamid.MULTI{i:04}"),
            "hello",
        )
    };
    // Every tenth message reaches both boxes at once, as Meta's retries do.
    let duplicated = |i: usize| i.is_multiple_of(10);
    futures_util::stream::iter(0..MESSAGES)
        .for_each_concurrent(16, |i| {
            let (box1, box2, body) = (&box1, &box2, message(i));
            async move {
                let first = if i % 2 == 0 { box1 } else { box2 };
                let other = if i % 2 == 0 { box2 } else { box1 };
                if duplicated(i) {
                    let (a, b) = tokio::join!(first.post_webhook(&body), other.post_webhook(&body));
                    assert!(a.status().is_success() && b.status().is_success());
                } else {
                    assert!(first.post_webhook(&body).await.status().is_success());
                }
            }
        })
        .await;

    tokio::join!(box1.drain_outbox(), box2.drain_outbox());

    let log = log_after(&box1, 0, 1000).await;
    assert_eq!(log.len(), MESSAGES, "one log row per distinct message");
    let ids: HashSet<_> = log.iter().map(|e| e.inbound_message_id.clone()).collect();
    assert_eq!(ids.len(), MESSAGES);
    for entry in &log {
        assert_eq!(entry.decision, "notified", "{}", entry.inbound_message_id);
        assert_eq!(
            entry.status.as_deref(),
            Some("sent"),
            "{}",
            entry.inbound_message_id
        );
        assert_eq!(entry.attempts, Some(1), "{}", entry.inbound_message_id);
    }

    let sent = box2.sent_messages().await;
    let notices: HashSet<_> = sent
        .iter()
        .map(|m| m["biz_opaque_callback_data"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent.len(), MESSAGES, "one send per distinct message");
    assert_eq!(notices.len(), MESSAGES, "no notice sent twice");
    let recipients: HashSet<_> = sent.iter().map(|m| m["to"].clone()).collect();
    assert_eq!(recipients.len(), MESSAGES);
}

#[tokio::test]
async fn a_reader_following_the_cursor_misses_no_row_that_two_boxes_write() {
    if std::env::var("SUNSET_TEST_DATABASE_URL").is_err() {
        return;
    }
    let box1 = spawn_app().await;
    let box2 = spawn_app_with(TestOptions {
        reuse_dir: Some(box1.dir_for_restart()),
        ..TestOptions::default()
    })
    .await;
    let posting = futures_util::stream::iter(0..MESSAGES * 2).for_each_concurrent(16, |i| {
        let target = if i % 2 == 0 { &box1 } else { &box2 };
        let body = text_message(
            &format!("1556{:07}", 1_000_000 + i),
            &format!("wamid.TAIL{i:04}"),
            "hello",
        );
        async move { assert!(target.post_webhook(&body).await.status().is_success()) }
    });
    // Follows the log as an analyst's script does, while the rows arrive.
    let tailing = async {
        let (mut after_id, mut seen) = (0, HashSet::new());
        while seen.len() < MESSAGES * 2 {
            let page = log_after(&box1, after_id, 7).await;
            match page.last() {
                Some(last) => after_id = last.id,
                None => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
            }
            seen.extend(page.into_iter().map(|e| e.inbound_message_id));
            let everything = log_after(&box1, 0, 1000).await;
            let behind: Vec<_> = everything
                .iter()
                .filter(|e| e.id <= after_id && !seen.contains(&e.inbound_message_id))
                .map(|e| e.id)
                .collect();
            assert!(
                behind.is_empty(),
                "rows the cursor stepped past: {behind:?}"
            );
        }
    };
    tokio::join!(posting, tailing);
}
