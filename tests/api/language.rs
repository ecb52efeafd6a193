//! The user's language: chosen without asking, switched by name, and the
//! stop and start keywords.

use crate::helpers::*;
use jiff::{SignedDuration, Timestamp};

async fn live_app() -> TestApp {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    app
}

async fn answer_to(app: &TestApp, from: &str, id: &str, text: &str) -> sunset::store::LogEntry {
    assert_eq!(
        app.post_webhook(&text_message(from, id, text))
            .await
            .status(),
        200
    );
    app.drain_outbox().await;
    app.log(id).await
}

/// A service on its own copy of the locales, and the version it serves.
async fn app_with_own_locales() -> (TestApp, String) {
    let app = spawn_app_with(TestOptions {
        own_locales: true,
        ..TestOptions::default()
    })
    .await;
    let version = app.catalog.current().localizer.version().to_owned();
    (app, version)
}

#[tokio::test]
async fn the_language_comes_from_the_script_the_text_or_the_country() {
    let app = live_app().await;
    let cases = [
        (
            "923001234567",
            "آپ کیسے ہیں؟ کیا سروس ابھی چل رہی ہے",
            "ur",
            "text",
        ),
        (
            "989121234567",
            "سلام، آیا این سرویس هنوز کار می‌کند؟",
            "fa",
            "text",
        ),
        (
            "212612345678",
            "Bonjour, est-ce que le service fonctionne encore ?",
            "fr",
            "text",
        ),
        ("201001234567", "👍🙏", "ar", "country"),
        ("5511912345678", "ok", "pt-BR", "country"),
        (
            "4915112345678",
            "Hallo, warum antwortest du nicht mehr?",
            "de",
            "text",
        ),
        ("79161234567", "Привет", "ru", "text"),
    ];
    for (i, (from, text, locale, source)) in cases.into_iter().enumerate() {
        let entry = answer_to(&app, from, &format!("wamid.LANG{i}"), text).await;
        assert_eq!(
            (entry.locale.as_str(), entry.locale_source.as_str()),
            (locale, source),
            "{text}"
        );
        assert_eq!(entry.status.as_deref(), Some("sent"));
    }
    assert!(
        body_sent_to(&app, "923001234567")
            .await
            .contains("Acme Assistant")
    );
    // Persian digits and Gregorian month names.
    assert!(body_sent_to(&app, "989121234567").await.contains("۱۰۰"));
    assert!(
        body_sent_to(&app, "212612345678")
            .await
            .starts_with("Acme Assistant quitte WhatsApp. Il reste 100 jours")
    );
}

#[tokio::test]
async fn naming_a_language_switches_to_it_and_the_choice_sticks() {
    let app = live_app().await;
    let first = answer_to(&app, "201001234567", "wamid.AR1", "مرحبا").await;
    assert_eq!(first.locale, "ar");
    let switch = answer_to(&app, "201001234567", "wamid.EN1", "English").await;
    assert_eq!(
        (
            switch.decision.as_str(),
            switch.locale.as_str(),
            switch.locale_source.as_str()
        ),
        ("keyword", "en", "keyword")
    );
    assert!(
        body_sent_to(&app, "201001234567")
            .await
            .starts_with("Acme Assistant is leaving WhatsApp.")
    );
    // Arabic text afterwards: the stored choice wins over the script.
    let later = answer_to(&app, "201001234567", "wamid.AR2", "شكرا").await;
    assert_eq!(
        (later.locale.as_str(), later.locale_source.as_str()),
        ("en", "stored")
    );
    assert_eq!(later.decision, "coalesced");
    assert_eq!(app.sent_messages().await.len(), 2);
}

#[tokio::test]
async fn hi_is_a_greeting_not_hindi() {
    let app = live_app().await;
    let entry = answer_to(&app, "15551234567", "wamid.HI", "Hi").await;
    assert_eq!(
        (entry.decision.as_str(), entry.locale.as_str()),
        ("notified", "en")
    );
    let hindi = answer_to(&app, "15557654321", "wamid.HINDI", "हिंदी").await;
    assert_eq!(
        (hindi.decision.as_str(), hindi.locale.as_str()),
        ("keyword", "hi")
    );
}

#[tokio::test]
async fn stop_is_confirmed_each_time_and_start_restarts() {
    let app = live_app().await;
    answer_to(
        &app,
        "15551234567",
        "wamid.S0",
        "hello there, is this still on?",
    )
    .await;
    let stop = answer_to(&app, "15551234567", "wamid.S1", "STOP").await;
    assert_eq!(
        (stop.decision.as_str(), stop.notice_kind.as_deref()),
        ("keyword", Some("stop_confirmation"))
    );
    assert!(
        body_sent_to(&app, "15551234567")
            .await
            .contains("Reply START")
    );
    for (i, text) in ["hello?", "English"].into_iter().enumerate() {
        let after = answer_to(&app, "15551234567", &format!("wamid.S2{i}"), text).await;
        assert_eq!(after.decision, "opted_out", "{text}");
    }
    assert_eq!(
        app.sent_messages().await.len(),
        2,
        "nothing after the confirmation"
    );
    // A second stop word is confirmed again.
    let again = answer_to(&app, "15551234567", "wamid.S29", "stop").await;
    assert_eq!(
        (again.decision.as_str(), again.notice_kind.as_deref()),
        ("keyword", Some("stop_confirmation"))
    );
    assert_eq!(app.sent_messages().await.len(), 3);
    let start = answer_to(&app, "15551234567", "wamid.S3", "Start!").await;
    assert_eq!(
        (start.decision.as_str(), start.notice_kind.as_deref()),
        ("keyword", Some("start_confirmation"))
    );
    let arabic_stop = answer_to(&app, "201001234567", "wamid.S4", "إيقاف").await;
    assert_eq!(
        arabic_stop.notice_kind.as_deref(),
        Some("stop_confirmation")
    );
    assert!(
        body_sent_to(&app, "201001234567")
            .await
            .contains("لن تصلك رسائل أخرى")
    );
    let not_a_keyword = answer_to(
        &app,
        "15559998888",
        "wamid.S5",
        "stop please, what happens to my chats",
    )
    .await;
    assert_eq!(not_a_keyword.decision, "notified");
}

#[tokio::test]
async fn a_broken_locale_file_dropped_into_a_running_service_changes_nothing_users_receive() {
    let (app, before) = app_with_own_locales().await;
    graph_accepts_messages(&app.graph).await;
    let en = app.locales_dir.join("en/sunset.ftl");
    let good = std::fs::read_to_string(&en).unwrap();
    std::fs::write(
        &en,
        good.replace("{ $days } days left", "{ $dayz } days left"),
    )
    .unwrap();
    app.catalog.reload();
    let health: serde_json::Value = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["locales"]["version"], before.as_str());
    assert!(
        health["locales"]["refused"]["problems"][0]
            .as_str()
            .unwrap()
            .contains("dayz")
    );
    assert_eq!(app.get("/readyz").await.status(), 200);
    let entry = answer_to(&app, "15551234567", "wamid.R1", "Hi").await;
    assert_eq!(entry.template_version.as_deref(), Some(before.as_str()));
    assert!(
        body_sent_to(&app, "15551234567")
            .await
            .contains("100 days left")
    );
    // A good edit is served from the next notice on.
    std::fs::write(
        &en,
        good.replace("{ $days } days left", "only { $days } days left"),
    )
    .unwrap();
    app.catalog.reload();
    let health: serde_json::Value = app.get("/healthz").await.json().await.unwrap();
    assert!(health["locales"]["refused"].is_null());
    let entry = answer_to(&app, "15557654321", "wamid.R2", "Hi").await;
    assert_ne!(entry.template_version.as_deref(), Some(before.as_str()));
    assert!(
        body_sent_to(&app, "15557654321")
            .await
            .contains("only 100 days left")
    );
}

#[tokio::test]
async fn a_direction_mark_beside_a_link_is_refused_and_the_refusal_ends_with_the_good_set() {
    let (app, before) = app_with_own_locales().await;
    let ar = app.locales_dir.join("ar/sunset.ftl");
    let good = std::fs::read_to_string(&ar).unwrap();
    std::fs::write(
        &ar,
        good.replacen("{ $app_link }", "\u{200F}{ $app_link }", 1),
    )
    .unwrap();
    app.catalog.reload();
    let health: serde_json::Value = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["locales"]["version"], before.as_str());
    let problem = health["locales"]["refused"]["problems"][0]
        .as_str()
        .unwrap();
    assert!(problem.contains("direction mark"), "{problem}");
    std::fs::write(&ar, good).unwrap();
    app.catalog.reload();
    let health: serde_json::Value = app.get("/healthz").await.json().await.unwrap();
    assert!(health["locales"]["refused"].is_null());
    assert_eq!(health["locales"]["version"], before.as_str());
}

#[tokio::test]
async fn the_running_service_notices_an_edited_file_within_seconds() {
    let (app, before) = app_with_own_locales().await;
    let en = app.locales_dir.join("en/sunset.ftl");
    let text = std::fs::read_to_string(&en).unwrap();
    std::fs::write(
        &en,
        text.replace("is leaving WhatsApp", "is moving off WhatsApp"),
    )
    .unwrap();
    let deadline = Timestamp::now() + SignedDuration::from_secs(10);
    while app.catalog.current().localizer.version() == before {
        assert!(Timestamp::now() < deadline, "the edit was not picked up");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_published_locale_set_reaches_every_running_box() {
    let app = spawn_app().await;
    let before = app.catalog.current().localizer.version().to_owned();
    let edited = tempfile::tempdir().unwrap();
    copy_dir(&shipped_locales(), edited.path());
    let en = edited.path().join("en/sunset.ftl");
    let text = std::fs::read_to_string(&en).unwrap();
    std::fs::write(
        &en,
        text.replace("is leaving WhatsApp", "is closing on WhatsApp"),
    )
    .unwrap();
    let vars = Default::default();
    let version = sunset::locale_sync::publish(app.store.as_ref(), edited.path(), &vars)
        .await
        .unwrap()
        .unwrap();
    let deadline = Timestamp::now() + SignedDuration::from_secs(10);
    while app.catalog.current().localizer.version() != version {
        assert!(
            Timestamp::now() < deadline,
            "the published set was not picked up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_ne!(before, version);
    let health: serde_json::Value = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["locales"]["version"], version.as_str());
    // SIGHUP (a log rotation sends one) reads the unchanged folder again,
    // and the published set stays in service.
    #[cfg(unix)]
    {
        let hangup = std::process::Command::new("kill")
            .args(["-HUP", &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(hangup.success());
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        assert_eq!(app.catalog.current().localizer.version(), version);
    }
    // A broken set is not published at all.
    std::fs::write(&en, text.replace("{ $app_link }", "{ $app_lnk }")).unwrap();
    let refused = sunset::locale_sync::publish(app.store.as_ref(), edited.path(), &vars)
        .await
        .unwrap();
    assert!(refused.unwrap_err()[0].contains("app_lnk"));
}

#[tokio::test]
async fn a_folder_edit_made_just_after_a_publish_is_the_one_served() {
    let (app, before) = app_with_own_locales().await;
    let elsewhere = tempfile::tempdir().unwrap();
    copy_dir(&app.locales_dir, elsewhere.path());
    let edit = |dir: &std::path::Path, to: &str| {
        let en = dir.join("en/sunset.ftl");
        let text = std::fs::read_to_string(&en).unwrap();
        std::fs::write(&en, text.replace("is leaving WhatsApp", to)).unwrap();
    };
    edit(elsewhere.path(), "is closing on WhatsApp");
    let published =
        sunset::locale_sync::publish(app.store.as_ref(), elsewhere.path(), &Default::default())
            .await
            .unwrap()
            .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    // Usually seen by the box in the same look as the publish.
    edit(&app.locales_dir, "is moving off WhatsApp");
    let deadline = Timestamp::now() + SignedDuration::from_secs(10);
    while [before.as_str(), published.as_str()].contains(&app.catalog.current().localizer.version())
    {
        assert!(Timestamp::now() < deadline, "the edit was not picked up");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Two more looks change nothing: the newest change stays in service.
    tokio::time::sleep(std::time::Duration::from_millis(4_500)).await;
    let served = app.catalog.current();
    assert_ne!(served.localizer.version(), published);
    let health: serde_json::Value = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["locales"]["version"], served.localizer.version());
}

#[tokio::test]
async fn a_box_whose_folder_is_broken_starts_on_the_published_set() {
    let first = spawn_app_with(TestOptions {
        own_locales: true,
        ..TestOptions::default()
    })
    .await;
    let en = first.locales_dir.join("en/sunset.ftl");
    let text = std::fs::read_to_string(&en).unwrap();
    std::fs::write(
        &en,
        text.replace("is leaving WhatsApp", "is closing on WhatsApp"),
    )
    .unwrap();
    let version = sunset::locale_sync::publish(
        first.store.as_ref(),
        &first.locales_dir,
        &Default::default(),
    )
    .await
    .unwrap()
    .unwrap();
    first.stop().await;
    std::fs::write(&en, text.replace("{ $app_link }", "{ $app_lnk }")).unwrap();
    let restarted = spawn_app_with(TestOptions {
        own_locales: true,
        reuse_dir: Some(first.dir_for_restart()),
        ..TestOptions::default()
    })
    .await;
    assert_eq!(restarted.catalog.current().localizer.version(), version);
    let health: serde_json::Value = restarted.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["locales"]["version"], version.as_str());
    let problems = health["locales"]["refused"]["problems"].to_string();
    assert!(problems.contains("app_lnk"), "{health}");
    graph_accepts_messages(&restarted.graph).await;
    restarted.post_webhook(&fixture("text_en")).await;
    restarted.drain_outbox().await;
    let body = body_sent_to(&restarted, "15551234567").await;
    assert!(body.contains("is closing on WhatsApp"), "{body}");
    // The folder mended: its set is served, and the published set it
    // started on does not come back over it.
    std::fs::write(
        &en,
        text.replace("is leaving WhatsApp", "is moving off WhatsApp"),
    )
    .unwrap();
    let deadline = Timestamp::now() + SignedDuration::from_secs(10);
    while restarted.catalog.current().localizer.version() == version {
        assert!(
            Timestamp::now() < deadline,
            "the mended folder was not picked up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mended = restarted.catalog.current().localizer.version().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(4_500)).await;
    assert_eq!(restarted.catalog.current().localizer.version(), mended);
}

#[tokio::test]
async fn a_locale_folder_without_its_file_is_named_on_healthz() {
    let app = spawn_app_with(TestOptions {
        own_locales: true,
        ..TestOptions::default()
    })
    .await;
    let begun = app.locales_dir.join("nl");
    std::fs::create_dir(&begun).unwrap();
    std::fs::write(begun.join("sunset.ftl.txt"), "notice = Hallo\n").unwrap();
    let health: serde_json::Value = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(
        health["locales"]["folders_without_sunset_ftl"],
        serde_json::json!(["nl"])
    );
    assert!(!health["locales"]["available"].to_string().contains("nl"));
}
