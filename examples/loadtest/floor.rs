//! `--serve-floor PORT --floor-db URL`: the least a webhook handler can do
//! and still mean "200 means stored" through sqlx. It checks the
//! signature, parses the JSON, takes each message's id and stores one row
//! per message in a group commit: writer tasks take everything that arrived
//! while they were busy and store it in one transaction with one multi-row
//! `INSERT` (one writer on SQLite, two on PostgreSQL, as the service). No
//! user, no decision, no notice, no delivery report.
//!
//! Its rate is the ceiling of any service built on these parts on this
//! machine: the service's figure is read against it as well as against the
//! bare handler.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Result;
use serde_json::Value;
use sqlx::{Connection, PgPool, SqliteConnection};
use std::str::FromStr;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// Messages one transaction takes at most, as in the service.
const GROUP_LIMIT: usize = 2_000;

type Reply = oneshot::Sender<bool>;
type Queue = Arc<Mutex<mpsc::UnboundedReceiver<(Vec<String>, Reply)>>>;

/// Serves `POST /webhook` on `port`, storing into the database at `url`
/// (`sqlite://…` or `postgres://…`), until the process is killed.
pub fn serve(port: u16, url: &str, app_secret: &'static str) -> Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let (requests, queue) = mpsc::unbounded_channel::<(Vec<String>, Reply)>();
        let queue: Queue = Arc::new(Mutex::new(queue));
        if url.starts_with("postgres") {
            let pool = PgPool::connect(url).await?;
            sqlx::query(
                "CREATE TABLE IF NOT EXISTS floor (message_id TEXT PRIMARY KEY, received_at BIGINT NOT NULL)",
            )
            .execute(&pool)
            .await?;
            for _ in 0..2 {
                tokio::spawn(write_groups(Floor::Postgres(pool.clone()), Arc::clone(&queue)));
            }
        } else {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
            let mut connection = SqliteConnection::connect_with(&options).await?;
            sqlx::query(
                "CREATE TABLE IF NOT EXISTS floor (message_id TEXT PRIMARY KEY, received_at INTEGER NOT NULL)",
            )
            .execute(&mut connection)
            .await?;
            tokio::spawn(write_groups(Floor::Sqlite(connection), queue));
        }
        let requests = web::Data::new(requests);
        HttpServer::new(move || {
            App::new()
                .app_data(requests.clone())
                .app_data(web::PayloadConfig::new(super::MAX_WEBHOOK_BYTES))
                .route(
                    "/webhook",
                    web::post().to(move |request: HttpRequest, body: web::Bytes, requests: web::Data<mpsc::UnboundedSender<(Vec<String>, Reply)>>| async move {
                        webhook(&request, &body, &requests, app_secret).await
                    }),
                )
                .route("/readyz", web::get().to(|| async { HttpResponse::Ok().finish() }))
        })
        .bind(("127.0.0.1", port))?
        .run()
        .await?;
        anyhow::Ok(())
    })
}

async fn webhook(
    request: &HttpRequest,
    body: &[u8],
    requests: &mpsc::UnboundedSender<(Vec<String>, Reply)>,
    app_secret: &str,
) -> HttpResponse {
    let signature = request
        .headers()
        .get("X-Hub-Signature-256")
        .and_then(|v| v.to_str().ok());
    if sunset::signing::verify_webhook(app_secret, signature, body).is_err() {
        return HttpResponse::Unauthorized().finish();
    }
    let Ok(envelope) = serde_json::from_slice::<Value>(body) else {
        return HttpResponse::BadRequest().finish();
    };
    let (reply, stored) = oneshot::channel();
    if requests.send((message_ids(&envelope), reply)).is_err() {
        return HttpResponse::ServiceUnavailable().finish();
    }
    match stored.await {
        Ok(true) => HttpResponse::Ok().finish(),
        _ => HttpResponse::InternalServerError().finish(),
    }
}

/// `entry[].changes[].value.messages[].id`.
fn message_ids(envelope: &Value) -> Vec<String> {
    let all = |value: &Value, key: &str| -> Vec<Value> {
        value
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    all(envelope, "entry")
        .iter()
        .flat_map(|entry| all(entry, "changes"))
        .filter_map(|change| change.get("value").cloned())
        .flat_map(|value| all(&value, "messages"))
        .filter_map(|message| message.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// Everything waiting, up to the limit.
async fn next_group(queue: &Queue) -> Option<Vec<(Vec<String>, Reply)>> {
    let mut queue = queue.lock().await;
    let first = queue.recv().await?;
    let mut size = first.0.len();
    let mut group = vec![first];
    while size < GROUP_LIMIT {
        let Ok(request) = queue.try_recv() else { break };
        size += request.0.len();
        group.push(request);
    }
    Some(group)
}

/// Where the floor handler stores its rows.
enum Floor {
    Sqlite(SqliteConnection),
    Postgres(PgPool),
}

impl Floor {
    /// One transaction, one multi-row `INSERT`.
    async fn insert(&mut self, ids: Vec<&str>) -> sqlx::Result<()> {
        let received_at = jiff::Timestamp::now().as_millisecond();
        match self {
            Floor::Sqlite(connection) => {
                let mut tx = connection.begin_with("BEGIN IMMEDIATE").await?;
                sqlx::query(
                    "INSERT OR IGNORE INTO floor (message_id, received_at)
                     SELECT value, $2 FROM json_each($1)",
                )
                .bind(serde_json::to_string(&ids).unwrap_or_default())
                .bind(received_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await
            }
            Floor::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query(
                    "INSERT INTO floor (message_id, received_at)
                     SELECT id, $2 FROM unnest($1::TEXT[]) AS id ON CONFLICT DO NOTHING",
                )
                .bind(ids)
                .bind(received_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await
            }
        }
    }
}

/// Stores group after group until the handler's side of the queue closes.
async fn write_groups(mut floor: Floor, queue: Queue) {
    while let Some(group) = next_group(&queue).await {
        let ids = group
            .iter()
            .flat_map(|(ids, _)| ids.iter().map(String::as_str))
            .collect();
        let stored = floor.insert(ids).await.is_ok();
        for (_, reply) in group {
            let _ = reply.send(stored);
        }
    }
}
