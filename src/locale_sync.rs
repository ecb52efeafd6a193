//! Keeps each box's locale set current: edits to the local folder, SIGHUP,
//! and sets published to the database by `sunset locales publish`. The
//! newest change wins; a set that fails the check never reaches a user.

use crate::i18n::{
    Catalog, FILE_NAME, LiveCatalog, LocaleFile, NoticeArgs, check, read_locale_set, version_of,
};
use crate::store::{PublishedLocales, Store};
use anyhow::Context;
use jiff::Timestamp;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How often the folder and the database are looked at.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// The name a published set's files go by in problems and logs.
const PUBLISHED: &str = "published";

/// Checks the folder and stores it as the newest version for every box.
/// Returns the version, or the problems that stopped it.
pub async fn publish(
    store: &dyn Store,
    dir: &Path,
    sample: &NoticeArgs,
) -> anyhow::Result<Result<String, Vec<String>>> {
    let (files, problems) = check::checked_set(dir, sample);
    if !problems.is_empty() {
        return Ok(Err(problems.iter().map(ToString::to_string).collect()));
    }
    let version = version_of(&files);
    store
        .publish_locales(
            &version,
            &serde_json::to_string(&files)?,
            jiff::Timestamp::now(),
        )
        .await?;
    Ok(Ok(version))
}

/// The newest published set, if there is one and it passes the check: what
/// a box starting now serves instead of its folder.
pub async fn published_catalog(
    store: &dyn Store,
    default_locale: &str,
    sample: &NoticeArgs,
) -> anyhow::Result<Option<Catalog>> {
    let Some(published) = store.latest_locales().await? else {
        return Ok(None);
    };
    let files = files_of(&published)
        .with_context(|| format!("published locale set {} is unreadable", published.id))?;
    Ok(Catalog::from_files(Path::new(PUBLISHED), &files, default_locale, sample).ok())
}

/// A published set's files, as `publish` stored them.
fn files_of(published: &PublishedLocales) -> serde_json::Result<Vec<LocaleFile>> {
    serde_json::from_str(&published.files_json)
}

/// Installs the newest published set, if any, and returns its id.
pub async fn install_published(
    catalog: &LiveCatalog,
    store: &dyn Store,
    seen: Option<i64>,
) -> Option<i64> {
    let mut seen = seen;
    if let Some(published) = newly_published(catalog, store, &mut seen).await {
        install(catalog, &published);
    }
    seen
}

/// The newest published set, unless it is the one seen last or the one
/// served already (the box started on it: the folder's refusal stands).
/// Either way it is seen from then on, so a later edit of the folder
/// stays in service.
async fn newly_published(
    catalog: &LiveCatalog,
    store: &dyn Store,
    seen: &mut Option<i64>,
) -> Option<PublishedLocales> {
    let published = match store.latest_locales().await {
        Ok(published) => published?,
        Err(error) => {
            tracing::warn!(error = %error, "cannot read published locale sets");
            return None;
        }
    };
    if Some(published.id) == *seen {
        return None;
    }
    *seen = Some(published.id);
    (published.version != catalog.current().localizer.version()).then_some(published)
}

fn install(catalog: &LiveCatalog, published: &PublishedLocales) {
    match files_of(published) {
        Ok(files) => catalog.install(Path::new(PUBLISHED), &files),
        Err(error) => {
            tracing::error!(error = %error, id = published.id, "published locale set is unreadable")
        }
    }
}

/// When the folder's files last changed: the latest modification time of
/// the folder, its locale folders and their files.
fn folder_changed_at(dir: &Path) -> Option<SystemTime> {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let locales = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|entry| entry.path());
    locales
        .flat_map(|locale| [modified(&locale), modified(&locale.join(FILE_NAME))])
        .chain([modified(dir)])
        .flatten()
        .max()
}

/// Watches the folder (every 2 s, and at once on SIGHUP) and the
/// database, until dropped. The folder is loaded when it changed since it
/// was last looked at: a set published over it stays in service, SIGHUP
/// or not.
pub async fn watch(catalog: Arc<LiveCatalog>, store: Arc<dyn Store>, mut seen: Option<i64>) {
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut folder = Some(catalog.first_folder_version().to_owned());
    loop {
        #[cfg(unix)]
        {
            let hangup_received = async {
                match hangup.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = hangup_received => tracing::info!("SIGHUP: looking at the locale files now"),
                () = tokio::time::sleep(WATCH_INTERVAL) => {}
            }
        }
        #[cfg(not(unix))]
        tokio::time::sleep(WATCH_INTERVAL).await;
        let read = read_locale_set(catalog.dir());
        let now = read.as_ref().ok().map(|files| version_of(files));
        let edited = (now != folder).then_some(read);
        folder = now;
        let published = newly_published(&catalog, store.as_ref(), &mut seen).await;
        // The newest change wins: when both changed since the last look,
        // the older goes in first.
        match (edited, published) {
            (Some(read), Some(published)) => {
                let edited_at = folder_changed_at(catalog.dir()).map(Timestamp::try_from);
                if matches!(edited_at, Some(Ok(at)) if at > published.published_at) {
                    install(&catalog, &published);
                    catalog.load(read);
                } else {
                    catalog.load(read);
                    install(&catalog, &published);
                }
            }
            (Some(read), None) => catalog.load(read),
            (None, Some(published)) => install(&catalog, &published),
            (None, None) => {}
        }
    }
}
