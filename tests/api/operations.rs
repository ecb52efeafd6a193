//! What operators run: metrics, retention, forgetting, the CLI's refusals.

use crate::helpers::*;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::process::Command;

#[tokio::test]
async fn metrics_count_webhooks_decisions_and_sends() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    app.post_webhook(&fixture("text_en")).await;
    app.post_webhook(&fixture("reaction")).await;
    app.post_raw(b"{}", None).await;
    app.drain_outbox().await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    for line in [
        "sunset_webhooks_received_total{result=\"ok\"} 2",
        "sunset_webhooks_received_total{result=\"unauthorized\"} 1",
        "sunset_decisions_total{decision=\"notified\"} 1",
        "sunset_decisions_total{decision=\"ignored\"} 1",
        "sunset_sends_total{result=\"sent\"} 1",
        "sunset_queue_depth 0",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
    assert!(text.contains("sunset_send_latency_seconds_count 1"));
}

#[tokio::test]
async fn purge_pseudonymizes_old_rows_but_keeps_opt_outs() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    app.post_webhook(&text_message("15551110000", "wamid.KEEP", "hello there"))
        .await;
    app.post_webhook(&text_message("15552220000", "wamid.STOP", "STOP"))
        .await;
    app.drain_outbox().await;
    let scrubbed = app
        .store
        .purge(Timestamp::now() + SignedDuration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(scrubbed, 1);
    let page: Value = app
        .get_as(ADMIN_TOKEN, "/api/notifications?reveal=true")
        .await
        .json()
        .await
        .unwrap();
    let recipients: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["recipient"].as_str().unwrap())
        .collect();
    assert!(recipients[0].starts_with("u_"), "{recipients:?}");
    assert_eq!(recipients[1], "15552220000", "the opt-out is kept");
    assert!(
        page["items"][1]["profile_name"].is_null(),
        "but not the name"
    );
    // The opted-out user stays opted out.
    app.post_webhook(&text_message("15552220000", "wamid.STOP2", "hello?"))
        .await;
    assert_eq!(app.log("wamid.STOP2").await.decision, "opted_out");
}

#[tokio::test]
async fn forget_erases_one_person_everywhere() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    app.post_webhook(&fixture("text_ar")).await;
    app.post_webhook(&fixture("text_en")).await;
    app.drain_outbox().await;
    assert!(app.forget("EG.FAKEBSUID0000000002").await > 0);
    let forgotten = || app.store.log_entry("wamid.FAKE_IN_TEXT_AR_0001");
    assert!(forgotten().await.unwrap().is_none());
    assert!(
        app.store
            .log_entry("wamid.FAKE_IN_TEXT_EN_0001")
            .await
            .unwrap()
            .is_some()
    );
    // Meta retries the forgotten message: known, not answered again, and
    // no record of the person made again.
    assert_eq!(app.post_webhook(&fixture("text_ar")).await.status(), 200);
    app.drain_outbox().await;
    assert_eq!(app.sent_messages().await.len(), 2);
    assert!(forgotten().await.unwrap().is_none());
    assert_eq!(app.forget("EG.FAKEBSUID0000000002").await, 0);
}

/// Purges as if every row were past the limit.
async fn purge_everything(app: &TestApp) {
    let after_everything = Timestamp::now() + SignedDuration::from_secs(1);
    app.store.purge(after_everything).await.unwrap();
}

#[tokio::test]
async fn forget_by_phone_finds_what_purge_left_under_the_persons_bsuid() {
    let app = spawn_app().await;
    // First seen with phone and BSUID: the pseudonym is the BSUID's.
    app.post_webhook(&fixture("text_en")).await;
    purge_everything(&app).await;
    let mut again = fixture("text_en");
    again["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = json!("wamid.AGAIN");
    app.post_webhook(&again).await;
    assert!(app.forget("15551234567").await > 0);
    for id in ["wamid.FAKE_IN_TEXT_EN_0001", "wamid.AGAIN"] {
        assert!(app.store.log_entry(id).await.unwrap().is_none(), "{id}");
    }
}

#[tokio::test]
async fn forget_finds_a_person_purge_left_with_a_pseudonym_only() {
    let app = spawn_app().await;
    app.post_webhook(&fixture("text_en")).await;
    purge_everything(&app).await;
    assert!(app.forget("US.FAKEBSUID0000000001").await > 0);
    assert!(
        app.store
            .log_entry("wamid.FAKE_IN_TEXT_EN_0001")
            .await
            .unwrap()
            .is_none()
    );
}

fn sunset(args: &[&str]) -> std::process::Output {
    sunset_with(args, &[])
}

/// The CLI in `dir`, where there is no settings file: every setting comes
/// from the environment.
fn cli_in(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sunset"));
    command
        .current_dir(dir)
        .env_remove("SUNSET_CONFIG")
        .env("SUNSET_CAMPAIGN__DEADLINE", "2027-06-30T23:59:59Z")
        .env("SUNSET_LOCALES__DIR", shipped_locales());
    command
}

/// Runs the CLI where there is no settings file.
fn sunset_with(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let no_settings_file = tempfile::tempdir().unwrap();
    cli_in(no_settings_file.path())
        .args(args)
        .env(
            "SUNSET_LINKS__LINK_ACCOUNT",
            "https://example.com/link?token={token}",
        )
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn purge_refuses_anything_younger_than_seven_days() {
    let output = sunset(&["purge", "--older-than", "3d"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 7d"));
}

#[test]
fn a_user_that_is_neither_a_number_nor_a_bsuid_or_a_backwards_range_is_bad_usage() {
    let output = sunset(&["simulate", "--from", "not a number", "--text", "hi"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("BSUID"));
    let backwards = sunset(&[
        "export",
        "--since",
        "2026-11-30T00:00:00Z",
        "--until",
        "2026-11-29T00:00:00Z",
    ]);
    assert_eq!(backwards.status.code(), Some(2));
    let forget = sunset(&["forget", "--user", "abc"]);
    assert_eq!(
        forget.status.code(),
        Some(2),
        "an erasure that matches no one by mistake"
    );
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("s.db").display());
    let with_database = [("SUNSET_SERVER__DATABASE_URL", database.as_str())];
    let nowhere = sunset_with(&["forget", "--user", "+44 7700 900-123"], &with_database);
    assert_eq!(nowhere.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&nowhere.stderr).contains("no database at sqlite://"),
        "a command run in the wrong folder must not erase from a new database"
    );
    assert!(!dir.path().join("s.db").exists());
    assert_eq!(
        sunset_with(&["migrate"], &with_database).status.code(),
        Some(0)
    );
    let written = sunset_with(&["forget", "--user", "+44 7700 900-123"], &with_database);
    assert_eq!(written.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&written.stdout),
        "0 row(s) erased\n"
    );
    let file = dir.path().join("log.csv");
    let path = file.to_str().unwrap();
    let export = sunset_with(&["export", "--output", path, "--reveal"], &with_database);
    assert_eq!(export.status.code(), Some(0));
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .starts_with("\u{feff}id,")
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(
        mode & 0o777,
        0o600,
        "an export is for its owner's eyes only"
    );
}

#[tokio::test]
async fn reading_commands_leave_a_database_sunset_never_migrated_alone_and_stop_quietly_at_a_closed_pipe()
 {
    let dir = tempfile::tempdir().unwrap();
    let database = database_url(&dir).await;
    let with_database = [("SUNSET_SERVER__DATABASE_URL", database.as_str())];
    for command in [
        &["export"][..],
        &["purge", "--older-than", "90d"],
        &["forget", "--user", "15551234567"],
    ] {
        let output = sunset_with(command, &with_database);
        assert_eq!(output.status.code(), Some(1), "{command:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("no database at"),
            "{command:?}"
        );
    }
    assert_eq!(
        sunset_with(&["migrate"], &with_database).status.code(),
        Some(0)
    );
    let mut export = cli_in(dir.path())
        .arg("export")
        .envs(with_database)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // `sunset export | head -0`: the reader is gone before the first row.
    drop(export.stdout.take());
    let output = export.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stderr.is_empty(), "no \"Broken pipe\" error");
}

#[test]
fn a_default_locale_without_its_folder_is_one_line_that_names_it() {
    let output = sunset_with(
        &["preview", "--locale", "en"],
        &[("SUNSET_CAMPAIGN__DEFAULT_LOCALE", "xx")],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("campaign.default_locale `xx` has no <locale>/sunset.ftl"),
        "{stderr}"
    );
}

#[test]
fn preview_prints_the_notice_and_refuses_unknown_locales() {
    let arabic = sunset(&[
        "preview",
        "--locale",
        "ar",
        "--days",
        "3",
        "--country",
        "EG",
    ]);
    assert_eq!(arabic.status.code(), Some(0));
    let text = String::from_utf8(arabic.stdout).unwrap();
    assert!(
        text.starts_with("ستتوقف خدمة Acme Assistant على واتساب. بقيت ٣ أيام"),
        "{text}"
    );
    assert!(text.contains("http://127.0.0.1:8080/l/PREVIEW\n"));
    assert!(text.contains("/link/PREVIEW"));
    let regional = sunset(&["preview", "--locale", "ar-EG", "--days", "3"]);
    assert_eq!(
        regional.stdout,
        text.as_bytes(),
        "ar-EG takes Egypt's digits"
    );
    let ended = sunset(&["preview", "--locale", "pt", "--phase", "ended"]);
    assert!(
        String::from_utf8(ended.stdout)
            .unwrap()
            .contains("WhatsApp")
    );
    let unknown = sunset(&["preview", "--locale", "xx"]);
    assert_eq!(unknown.status.code(), Some(2));
    let not_a_country = sunset(&["preview", "--locale", "ar", "--country", "EGY"]);
    assert_eq!(not_a_country.status.code(), Some(2));
}

#[test]
fn preview_shows_the_published_set_a_box_would_serve() {
    let edited = tempfile::tempdir().unwrap();
    copy_dir(&shipped_locales(), edited.path());
    let file = edited.path().join("en").join("sunset.ftl");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("is leaving WhatsApp", "is LEAVING WhatsApp"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("s.db").display());
    let preview = || {
        let output = sunset_with(
            &["preview", "--locale", "en"],
            &[("SUNSET_SERVER__DATABASE_URL", &database)],
        );
        String::from_utf8(output.stdout).unwrap()
    };
    assert!(preview().contains("is leaving WhatsApp"));
    assert!(
        !dir.path().join("s.db").exists(),
        "a preview creates no database"
    );
    let published = sunset_with(
        &["locales", "publish"],
        &[
            ("SUNSET_SERVER__DATABASE_URL", &database),
            ("SUNSET_LOCALES__DIR", &edited.path().display().to_string()),
        ],
    );
    assert_eq!(published.status.code(), Some(0), "{published:?}");
    assert!(preview().contains("is LEAVING WhatsApp"), "{}", preview());
}

#[test]
fn the_locale_check_renders_with_the_campaigns_own_settings() {
    assert_eq!(sunset(&["locales", "check"]).status.code(), Some(0));
    let long_name = "S".repeat(2100);
    let output = sunset_with(
        &["locales", "check"],
        &[("SUNSET_CAMPAIGN__SERVICE", long_name.as_str())],
    );
    assert_eq!(output.status.code(), Some(1));
    let problems = String::from_utf8(output.stdout).unwrap();
    assert!(problems.contains("4096"), "{problems}");
}

#[test]
fn a_bad_setting_is_named_with_where_it_came_from() {
    let output = sunset_with(
        &["preview", "--locale", "en"],
        &[("SUNSET_WHATSAPP__MESSAGES_PER_SECOND", "fast")],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.trim(),
        "sunset: whatsapp.messages_per_second: invalid type: found string \"fast\", \
         expected u32 in SUNSET_WHATSAPP__MESSAGES_PER_SECOND"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sunset.toml");
    let named = sunset_with(
        &["preview", "--locale", "en"],
        &[("SUNSET_CONFIG", &file.display().to_string())],
    );
    assert_eq!(named.status.code(), Some(2), "a file named must exist");
    assert!(String::from_utf8_lossy(&named.stderr).contains("no settings file at"));
    std::fs::write(&file, "[server]\nbnd = \"127.0.0.1:1\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_sunset"))
        .args(["migrate"])
        .env("SUNSET_CONFIG", &file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("sunset: server.bnd: unknown field: found `bnd`")
            && stderr
                .trim_end()
                .ends_with(&format!("in {}", file.display())),
        "{stderr}"
    );
}

#[test]
fn settings_that_cannot_work_are_refused_by_name() {
    for (variable, value, expected) in [
        (
            "SUNSET_LINKS__LINK_ACCOUNT",
            "https://example.com/link",
            "sunset: links.link_account: has no `{token}`",
        ),
        (
            "SUNSET_CAMPAIGN__SERVICE",
            " ",
            "sunset: campaign.service: is empty",
        ),
        (
            "SUNSET_WHATSAPP__API_VERSION",
            "v27 .0/../x",
            "sunset: whatsapp.api_version: `v27 .0/../x` is not a Graph API version",
        ),
    ] {
        let output = sunset_with(&["preview", "--locale", "en"], &[(variable, value)]);
        assert_eq!(output.status.code(), Some(1), "{variable}={value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with(expected), "{variable}={value}: {stderr}");
    }
    let versioned = sunset_with(
        &["preview", "--locale", "en"],
        &[("SUNSET_WHATSAPP__API_VERSION", "v21.0")],
    );
    assert_eq!(versioned.status.code(), Some(0));
}

#[test]
fn the_settings_file_is_read_from_the_working_folder_only() {
    let parent = tempfile::tempdir().unwrap();
    std::fs::write(
        parent.path().join("sunset.toml"),
        "[campaign]\nservice = \"Parent Service\"\n",
    )
    .unwrap();
    let child = parent.path().join("child");
    std::fs::create_dir(&child).unwrap();
    let output = cli_in(&child)
        .args(["preview", "--locale", "en"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains("Parent Service") && text.contains("Acme Assistant"),
        "{text}"
    );
}

#[test]
fn a_secret_in_the_settings_file_or_a_missing_one_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sunset.toml");
    std::fs::write(
        &file,
        "[campaign]\ndeadline = \"2027-06-30T23:59:59Z\"\n[whatsapp]\naccess_token = \"x\"\n",
    )
    .unwrap();
    let migrate = |env: &[(&str, &str)]| {
        Command::new(env!("CARGO_BIN_EXE_sunset"))
            .args(["migrate"])
            .env("SUNSET_CONFIG", &file)
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let output = migrate(&[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("access_token"));
    std::fs::write(
        &file,
        "[campaign]\ndeadline = \"2027-06-30T23:59:59Z\"\n[campaign.vars]\nsigning_key = \"x\"\n",
    )
    .unwrap();
    let in_vars = migrate(&[]);
    assert_eq!(in_vars.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&in_vars.stderr).contains("`signing_key` is a secret"));
    std::fs::write(&file, "[campaign]\ndeadline = \"2027-06-30T23:59:59Z\"\n").unwrap();
    let live = migrate(&[("SUNSET_ACCESS_TOKEN", "token")]);
    assert_eq!(live.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&live.stderr);
    assert!(
        stderr.contains("SUNSET_APP_SECRET") && stderr.lines().count() == 1,
        "{stderr}"
    );
    let unmatchable = migrate(&[(
        "SUNSET_WHATSAPP__TEST_RECIPIENTS",
        r#"["15558600001", "abc"]"#,
    )]);
    assert_eq!(unmatchable.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&unmatchable.stderr);
    assert!(
        stderr.contains("whatsapp.test_recipients: `abc`"),
        "{stderr}"
    );
    let one_token = migrate(&[
        ("SUNSET_ADMIN_TOKEN", "shared"),
        ("SUNSET_ANALYST_TOKEN", "shared"),
    ]);
    assert_eq!(one_token.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&one_token.stderr).contains("a token of their own"));
    std::fs::write(&file, "[campaign]\ntimezone = \"Mars/Base\"\n").unwrap();
    let no_deadline = migrate(&[]);
    assert!(String::from_utf8_lossy(&no_deadline.stderr).contains("campaign.deadline"));
}

#[tokio::test]
async fn with_test_recipients_only_they_get_live_sends() {
    let app = spawn_app_with(TestOptions {
        // As people write a number; the setting keeps its digits.
        test_recipients: vec!["+20 100 123 4567".into()],
        ..TestOptions::default()
    })
    .await;
    graph_accepts_messages(&app.graph).await;
    app.post_webhook(&fixture("text_ar")).await;
    app.post_webhook(&fixture("text_en")).await;
    app.drain_outbox().await;
    assert_eq!(
        app.log("wamid.FAKE_IN_TEXT_AR_0001")
            .await
            .status
            .as_deref(),
        Some("sent")
    );
    assert_eq!(
        app.log("wamid.FAKE_IN_TEXT_EN_0001")
            .await
            .status
            .as_deref(),
        Some("dry_run")
    );
    assert_eq!(app.sent_messages().await.len(), 1);
}

#[tokio::test]
async fn the_operators_pause_holds_every_number_until_resume() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    app.store
        .pause_number(&sunset::store::PausedNumber::operator_pause(
            Timestamp::now(),
        ))
        .await
        .unwrap();
    assert_eq!(app.post_webhook(&fixture("text_en")).await.status(), 200);
    app.drain_outbox().await;
    assert_eq!(
        app.log("wamid.FAKE_IN_TEXT_EN_0001")
            .await
            .status
            .as_deref(),
        Some("queued")
    );
    let health: Value = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["sender"]["state"], "paused");
    assert_eq!(
        health["sender"]["paused_numbers"][0]["next_probe_at"],
        Value::Null,
        "no probe lifts the operator's pause"
    );
    app.store.resume_numbers(None).await.unwrap();
    app.drain_outbox().await;
    assert_eq!(
        app.log("wamid.FAKE_IN_TEXT_EN_0001")
            .await
            .status
            .as_deref(),
        Some("sent")
    );
}

/// A real `sunset serve` process on a free port, with its own database.
struct Served {
    child: std::process::Child,
    url: String,
    env: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = vec![
        (
            "SUNSET_CONFIG".to_string(),
            format!("{}/sunset.toml", env!("CARGO_MANIFEST_DIR")),
        ),
        ("SUNSET_SERVER__BIND".into(), format!("127.0.0.1:{port}")),
        (
            "SUNSET_SERVER__DATABASE_URL".into(),
            format!("sqlite://{}/sunset.db", dir.path().display()),
        ),
        (
            "SUNSET_LOCALES__DIR".into(),
            shipped_locales().display().to_string(),
        ),
        (
            "RUST_LOG".into(),
            "debug,sqlx=info,hyper=info,reqwest=info".into(),
        ),
    ];
    let child = Command::new(env!("CARGO_BIN_EXE_sunset"))
        .arg("serve")
        .envs(env.iter().cloned())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    wait_until_listening(port);
    Served {
        child,
        url,
        env,
        _dir: dir,
    }
}

#[test]
fn an_environment_override_of_digits_stays_text_where_the_setting_is_text() {
    let output = sunset_with(
        &["preview", "--locale", "en", "--days", "3"],
        &[
            ("SUNSET_CAMPAIGN__SERVICE", "1234"),
            ("SUNSET_WHATSAPP__MESSAGES_PER_SECOND", "5"),
            (
                "SUNSET_WHATSAPP__PHONE_NUMBER_IDS",
                r#"["100000000000001"]"#,
            ),
        ],
    );
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(printed.starts_with("1234 is leaving WhatsApp"), "{printed}");
    let output = sunset_with(
        &["preview", "--locale", "en"],
        &[("SUNSET_WHATSAPP__MESSAGES_PER_SECOND", "fast")],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("whatsapp.messages_per_second"));
}

#[test]
fn simulate_presses_a_templates_stop_button() {
    let mut served = serve();
    for kind in ["button", "interactive"] {
        let output = Command::new(env!("CARGO_BIN_EXE_sunset"))
            .args([
                "simulate",
                "--from",
                "201001234567",
                "--type",
                kind,
                "--text",
                "Stop",
            ])
            .args(["--url", &served.url])
            .envs(served.env.iter().cloned())
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{printed}");
        assert!(printed.contains("keyword"), "{kind}: {printed}");
    }
    served.child.kill().unwrap();
    served.child.wait().unwrap();
}

#[test]
fn logs_of_a_full_run_hold_no_phone_number_bsuid_or_secret_and_sigterm_stops_it() {
    let served = serve();
    for (from, text) in [
        ("201001234567", "مرحبا"),
        ("EG.SECRETBSUID777", "hello there"),
        ("15551234567", "STOP"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_sunset"))
            .args([
                "simulate",
                "--from",
                from,
                "--text",
                text,
                "--url",
                &served.url,
            ])
            .envs(served.env.iter().cloned())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let printed = String::from_utf8_lossy(&output.stdout);
        assert!(
            printed.contains("decision") && !printed.contains(from),
            "{printed}"
        );
    }
    let started = std::time::Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = served.child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "exit after SIGTERM: {:?}",
        output.status
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(logs.contains("inbound message decided"), "{logs}");
    for personal in [
        "201001234567",
        "SECRETBSUID777",
        "15551234567",
        "dev-secret",
        "Simulated user",
    ] {
        assert!(
            !logs.contains(personal),
            "`{personal}` in the logs:\n{logs}"
        );
    }
}

#[test]
fn an_unreachable_postgresql_server_is_named_at_once() {
    let started = std::time::Instant::now();
    let output = sunset_with(
        &["migrate"],
        &[(
            "SUNSET_SERVER__DATABASE_URL",
            "postgres://sunset:secret@127.0.0.1:1/sunset",
        )],
    );
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("refused"), "{said}");
    assert!(!said.contains("secret"), "{said}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn a_second_serve_on_one_sqlite_file_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("one.db").display());
    let free_port = || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let no_settings_file = tempfile::tempdir().unwrap();
    let mut first = cli_in(no_settings_file.path())
        .arg("serve")
        .env("SUNSET_SERVER__DATABASE_URL", &database)
        .env("SUNSET_SERVER__BIND", &bind)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ready = format!("http://{bind}/readyz");
    let mut up = false;
    for _ in 0..200 {
        if reqwest::get(&ready).await.is_ok_and(|r| r.status() == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let second_bind = format!("127.0.0.1:{}", free_port());
    let second = sunset_with(
        &["serve"],
        &[
            ("SUNSET_SERVER__DATABASE_URL", database.as_str()),
            ("SUNSET_SERVER__BIND", second_bind.as_str()),
        ],
    );
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(up, "the first box never answered /readyz");
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("another `sunset serve` is running"),
        "{stderr}"
    );
}
