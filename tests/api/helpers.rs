//! The test harness: a real server on a random port with its own SQLite
//! file, and a wiremock Graph API speaking the Cloud API's wire format.

use jiff::{SignedDuration, Timestamp, ToSpan, tz::TimeZone};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use sunset::config::{Config, Secrets, Settings};
use sunset::outbox::Outbox;
use sunset::signing::sign_webhook;
use sunset::startup::Application;
use sunset::store::{LogEntry, Store};
use tempfile::TempDir;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const APP_SECRET: &str = "test-app-secret";
pub const VERIFY_TOKEN: &str = "test-verify-token";
pub const ACCESS_TOKEN: &str = "test-access-token";
pub const PUBLIC_URL: &str = "https://sunset.test";
pub const ADMIN_TOKEN: &str = "test-admin-token";
pub const ANALYST_TOKEN: &str = "test-analyst-token";
pub const SIGNING_KEY: &str = "test-signing-key";

pub struct TestApp {
    pub address: String,
    pub graph: MockServer,
    pub store: Arc<dyn Store>,
    pub outbox: Arc<Outbox>,
    pub catalog: Arc<sunset::i18n::LiveCatalog>,
    pub locales_dir: PathBuf,
    pub http: reqwest::Client,
    server: actix_web::dev::ServerHandle,
    // Kept alive for the database file.
    dir: Arc<TempDir>,
}

/// How a test wants its service.
pub struct TestOptions {
    /// Local days left before the last day (0: today is the last day).
    pub days_left: i64,
    /// With a token the service is live against the fake Graph API.
    pub live: bool,
    pub min_reply_interval: &'static str,
    /// WhatsApp's pair spacing; most tests send several notices to one
    /// user at once and leave it at 0s.
    pub pair_spacing: &'static str,
    pub phone_number_ids: Vec<String>,
    /// Reuse another app's database (a restart).
    pub reuse_dir: Option<Arc<TempDir>>,
    /// Reuse another app's Graph API.
    pub graph: Option<MockServer>,
    /// Serve a copy of the locale files that the test may edit.
    pub own_locales: bool,
    pub test_recipients: Vec<String>,
    /// `campaign.timezone`.
    pub timezone: &'static str,
    /// `whatsapp.messages_per_second`.
    pub messages_per_second: u32,
    /// `whatsapp.sends_in_flight`.
    pub sends_in_flight: u32,
}

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            days_left: 100,
            live: true,
            min_reply_interval: "1h",
            pair_spacing: "0s",
            phone_number_ids: vec![],
            reuse_dir: None,
            graph: None,
            own_locales: false,
            test_recipients: vec![],
            timezone: "UTC",
            messages_per_second: 1000,
            sends_in_flight: 16,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestOptions::default()).await
}

/// A deadline that leaves `days_left` local (UTC) days after today.
pub fn deadline_with_days_left(days_left: i64) -> Timestamp {
    let today = Timestamp::now().to_zoned_datetime(TimeZone::UTC).date();
    let after_last_day = today.checked_add((days_left + 1).days()).unwrap();
    after_last_day
        .to_zoned_datetime(TimeZone::UTC)
        .unwrap()
        .timestamp()
}

pub async fn spawn_app_with(options: TestOptions) -> TestApp {
    let dir = options
        .reuse_dir
        .unwrap_or_else(|| Arc::new(tempfile::tempdir().unwrap()));
    let graph = match options.graph {
        Some(graph) => graph,
        None => MockServer::start().await,
    };
    let mut settings = Settings::default();
    settings.server.bind = "127.0.0.1:0".into();
    settings.server.public_url = PUBLIC_URL.into();
    settings.server.database_url = database_url(&dir).await;
    settings.whatsapp.graph_api_base = graph.uri();
    settings.whatsapp.phone_number_ids = options.phone_number_ids;
    settings.whatsapp.messages_per_second = options.messages_per_second;
    settings.whatsapp.sends_in_flight = options.sends_in_flight;
    settings.whatsapp.test_recipients = options.test_recipients;
    settings.whatsapp.pair_spacing = options.pair_spacing.into();
    settings.campaign.deadline = Some(deadline_with_days_left(options.days_left).to_string());
    settings.campaign.min_reply_interval = options.min_reply_interval.into();
    settings.campaign.timezone = options.timezone.into();
    settings.links.link_account = "https://example.com/link?token={token}".into();
    settings.locales.dir = if options.own_locales {
        // A restart keeps the folder as the last box left it.
        let copy = dir.path().join("locales");
        if !copy.exists() {
            copy_dir(&shipped_locales(), &copy);
        }
        copy
    } else {
        shipped_locales()
    };
    let mut env = BTreeMap::from([
        ("SUNSET_APP_SECRET".to_string(), APP_SECRET.to_string()),
        ("SUNSET_VERIFY_TOKEN".into(), VERIFY_TOKEN.into()),
        ("SUNSET_ADMIN_TOKEN".into(), ADMIN_TOKEN.into()),
        ("SUNSET_ANALYST_TOKEN".into(), ANALYST_TOKEN.into()),
        ("SUNSET_SIGNING_KEY".into(), SIGNING_KEY.into()),
    ]);
    if options.live {
        env.insert("SUNSET_ACCESS_TOKEN".into(), ACCESS_TOKEN.into());
    }
    let secrets = Secrets::from_lookup(|name| env.get(name).cloned()).unwrap();
    let config = Config::from_settings(settings, secrets).unwrap();
    let app = Application::build(&config).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let (store, outbox, server, catalog) = (app.store(), app.outbox(), app.handle(), app.catalog());
    let locales_dir = config.settings.locales.dir.clone();
    tokio::spawn(app.run_until_stopped(false));
    TestApp {
        address,
        graph,
        store,
        outbox,
        catalog,
        locales_dir,
        // Idle connections are dropped before the server's keep-alive of
        // 5 s closes them: a request never goes out on a closing one.
        http: reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .unwrap(),
        server,
        dir,
    }
}

/// With `SUNSET_TEST_DATABASE_URL` set, a fresh PostgreSQL database per
/// test, its URL kept in `dir` so that a restart finds the same data;
/// otherwise an SQLite file in `dir`.
pub async fn database_url(dir: &TempDir) -> String {
    let Ok(server) = std::env::var("SUNSET_TEST_DATABASE_URL") else {
        return format!("sqlite://{}", dir.path().join("sunset.db").display());
    };
    let saved = dir.path().join("database_url");
    if let Ok(url) = std::fs::read_to_string(&saved) {
        return url;
    }
    // Left behind on purpose: dropping needs every pool closed first. The
    // prefix tells leftovers apart: `DROP DATABASE` those named sunset_test_*.
    let name = format!("sunset_test_{:016x}", rand::random::<u64>());
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&server)
        .await
        .unwrap();
    sqlx::Executor::execute(
        &mut admin,
        sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")),
    )
    .await
    .unwrap();
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server.as_str(), String::new()),
    };
    // Everything up to the path: the server, without its database name.
    let path_from = base.find("://").map_or(0, |i| i + 3);
    let server_part = base[path_from..]
        .find('/')
        .map_or(base, |i| &base[..path_from + i]);
    let url = format!("{server_part}/{name}{query}");
    std::fs::write(&saved, &url).unwrap();
    url
}

/// Waits until a `sunset serve` child listens on `port`. A debug build
/// checks every locale at start-up (about 2 s alone, more with the other
/// tests running), so this allows half a minute.
pub fn wait_until_listening(port: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing listens on port {port} after 30 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
}

/// The locale files the repository ships.
pub fn shipped_locales() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("locales")
}

pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

impl TestApp {
    /// Posts a body signed as Meta signs it.
    pub async fn post_webhook(&self, body: &Value) -> reqwest::Response {
        let bytes = serde_json::to_vec(body).unwrap();
        self.post_raw(&bytes, Some(&sign_webhook(APP_SECRET, &bytes)))
            .await
    }

    pub async fn post_raw(&self, bytes: &[u8], signature: Option<&str>) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}/webhook", self.address))
            .header("Content-Type", "application/json")
            .body(bytes.to_vec());
        if let Some(signature) = signature {
            request = request.header("X-Hub-Signature-256", signature);
        }
        request.send().await.unwrap()
    }

    /// Runs the sender until nothing is due at `now`.
    pub async fn drain_outbox_at(&self, now: Timestamp) {
        while self.outbox.step(now).await.unwrap() > 0 {}
    }

    /// Sends every due notice, each round at the time it runs, as the
    /// running sender does.
    pub async fn drain_outbox(&self) {
        while self.outbox.step(Timestamp::now()).await.unwrap() > 0 {}
    }

    /// The JSON bodies the fake Graph API received on /messages.
    pub async fn sent_messages(&self) -> Vec<Value> {
        self.graph
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path().ends_with("/messages"))
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect()
    }

    /// Moves a stored message to another time of arrival, as SQL typed by
    /// hand would: the rollups' triggers follow it.
    pub async fn set_received_at(&self, message_id: &str, at: Timestamp) {
        let url = database_url(&self.dir).await;
        let sql = "UPDATE inbound SET received_at = $1 WHERE message_id = $2";
        let moved = if url.starts_with("postgres") {
            let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            let query = sqlx::query(sql).bind(at.as_millisecond()).bind(message_id);
            query.execute(&mut db).await.unwrap().rows_affected()
        } else {
            let mut db = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            let query = sqlx::query(sql).bind(at.as_millisecond()).bind(message_id);
            query.execute(&mut db).await.unwrap().rows_affected()
        };
        assert_eq!(moved, 1, "{message_id} is not stored");
    }

    /// `sunset forget --user`: the rows erased.
    pub async fn forget(&self, user_key: &str) -> u64 {
        self.store
            .forget(user_key, SIGNING_KEY, Timestamp::now())
            .await
            .unwrap()
    }

    pub async fn log(&self, inbound_message_id: &str) -> LogEntry {
        self.store
            .log_entry(inbound_message_id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{inbound_message_id} is not in the log"))
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }

    /// The database folder, for starting a second app on the same data.
    pub fn dir_for_restart(&self) -> Arc<TempDir> {
        Arc::clone(&self.dir)
    }

    /// GET with a bearer token.
    pub async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn stop(&self) {
        self.server.stop(true).await;
    }
}

/// The fake Graph API accepts every send with a fresh `wamid`.
pub async fn graph_accepts_messages(graph: &MockServer) {
    let counter = Arc::new(AtomicU64::new(0));
    Mock::given(method("POST"))
        .and(path_regex(r"^/v27\.0/[0-9]+/messages$"))
        .respond_with(move |request: &Request| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            let input = body
                .get("to")
                .or_else(|| body.get("recipient"))
                .cloned()
                .unwrap_or_default();
            ResponseTemplate::new(200).set_body_json(json!({
                "messaging_product": "whatsapp",
                "contacts": [{ "input": input, "wa_id": input }],
                "messages": [{ "id": format!("wamid.OUT{n:04}") }],
            }))
        })
        .mount(graph)
        .await;
}

/// A Graph API error exactly as the Cloud API writes it.
pub fn graph_error(http_status: u16, code: i64, title: &str) -> ResponseTemplate {
    ResponseTemplate::new(http_status).set_body_json(json!({
        "error": {
            "message": format!("(#{code}) {title}"),
            "type": "OAuthException",
            "code": code,
            "error_data": { "messaging_product": "whatsapp", "details": title },
            "fbtrace_id": "AbCdEfGhIjKlMnOp",
        }
    }))
}

/// A fixture with its timestamps moved so the newest is a minute old.
pub fn fixture(name: &str) -> Value {
    fixture_aged(name, SignedDuration::from_secs(60))
}

/// A fixture with its timestamps moved so the newest is `age` old.
pub fn fixture_aged(name: &str, age: SignedDuration) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.json"));
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut stamps = vec![];
    collect_timestamps(&mut value, &mut |ts| stamps.push(*ts));
    let newest = stamps.iter().copied().max().unwrap_or(0);
    let shift = (Timestamp::now() - age).as_second() - newest;
    collect_timestamps(&mut value, &mut |ts| *ts += shift);
    value
}

fn collect_timestamps(value: &mut Value, f: &mut dyn FnMut(&mut i64)) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "timestamp" {
                    if let Some(mut ts) = child.as_str().and_then(|s| s.parse::<i64>().ok()) {
                        f(&mut ts);
                        *child = Value::String(ts.to_string());
                    }
                } else {
                    collect_timestamps(child, f);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| collect_timestamps(item, f)),
        _ => {}
    }
}

/// The text body of the notice the fake Graph API received for `to`.
pub async fn body_sent_to(app: &TestApp, to: &str) -> String {
    let sent = app.sent_messages().await;
    let message = sent
        .iter()
        .rev()
        .find(|m| m["to"] == to)
        .unwrap_or_else(|| panic!("nothing sent to {to}"));
    message["text"]["body"].as_str().unwrap().to_owned()
}

/// The smart link (`/l/…`) in the latest notice sent to `to`, on this server.
pub async fn smart_link_sent_to(app: &TestApp, to: &str) -> String {
    body_sent_to(app, to)
        .await
        .lines()
        .find(|l| l.contains("/l/"))
        .unwrap_or_else(|| panic!("no smart link sent to {to}"))
        .replace(PUBLIC_URL, &app.address)
}

/// A client that shows redirects instead of following them.
pub fn without_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `/api/stats` as the analyst sees it.
pub async fn analyst_stats(app: &TestApp) -> Value {
    app.get_as(ANALYST_TOKEN, "/api/stats")
        .await
        .json()
        .await
        .unwrap()
}

/// A delivery report for the notice sent as `outbound_id`.
pub fn status_report(outbound_id: &str, state: &str) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "1", "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550001111", "phone_number_id": "100000000000001" },
            "statuses": [{ "id": outbound_id, "status": state, "timestamp": Timestamp::now().as_second().to_string() }],
        }}]}],
    })
}

/// A one-message text webhook from a phone number.
pub fn text_message(from: &str, message_id: &str, body: &str) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "200000000000001", "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550001111", "phone_number_id": "100000000000001" },
            "contacts": [{ "profile": { "name": "Test User" }, "wa_id": from }],
            "messages": [{
                "from": from, "id": message_id, "timestamp": (Timestamp::now().as_second() - 5).to_string(),
                "type": "text", "text": { "body": body },
            }],
        }}]}],
    })
}
