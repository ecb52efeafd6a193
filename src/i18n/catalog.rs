//! The locale set being served, swapped whole when the files change and
//! pass the check; a refused set never reaches a user.

use super::bundle::{LocaleProblem, Localizer, fingerprint};
use crate::domain::locale::LocaleChooser;
use arc_swap::ArcSwap;
use jiff::Timestamp;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the locale folder is looked at for edits.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// A checked locale set and the chooser over its locales.
#[derive(Debug)]
pub struct Catalog {
    pub localizer: Localizer,
    pub chooser: LocaleChooser,
}

impl Catalog {
    /// Loads and checks the files; the default locale must be among them.
    pub fn load(dir: &Path, default_locale: &str) -> Result<Self, Vec<LocaleProblem>> {
        let localizer = Localizer::load(dir)?;
        let chooser = LocaleChooser::new(localizer.locales(), default_locale.to_owned());
        if chooser.supported(default_locale).is_none() {
            return Err(vec![LocaleProblem {
                file: dir.to_owned(),
                line: 0,
                problem: format!(
                    "campaign.default_locale `{default_locale}` has no <locale>/sunset.ftl here"
                ),
            }]);
        }
        Ok(Self { localizer, chooser })
    }
}

/// The newest set that failed the check, kept for /healthz.
#[derive(Clone, Debug)]
pub struct Refusal {
    pub fingerprint: String,
    pub at: Timestamp,
    pub problems: Vec<String>,
}

/// The catalog in service, reloaded on change and on SIGHUP.
#[derive(Debug)]
pub struct LiveCatalog {
    current: ArcSwap<Catalog>,
    dir: PathBuf,
    default_locale: String,
    refused: Mutex<Option<Refusal>>,
}

impl LiveCatalog {
    pub fn new(catalog: Catalog, dir: PathBuf, default_locale: String) -> Self {
        Self {
            current: ArcSwap::from_pointee(catalog),
            dir,
            default_locale,
            refused: Mutex::new(None),
        }
    }

    /// The set to use for one piece of work; it never changes under it.
    pub fn current(&self) -> Arc<Catalog> {
        self.current.load_full()
    }

    /// The last refused set, if it is still what the folder holds.
    pub fn refusal(&self) -> Option<Refusal> {
        self.refused.lock().ok().and_then(|r| r.clone())
    }

    /// Loads the folder if it changed. A set that fails the check is
    /// refused and the one in service stays.
    pub fn reload(&self) {
        let Ok(print) = fingerprint(&self.dir) else {
            return;
        };
        let unchanged = print == self.current().localizer.version()
            || self.refusal().is_some_and(|r| r.fingerprint == print);
        if unchanged {
            return;
        }
        match Catalog::load(&self.dir, &self.default_locale) {
            Ok(catalog) => {
                tracing::info!(version = %catalog.localizer.version(), locales = ?catalog.localizer.locales(), "locale files reloaded");
                self.current.store(Arc::new(catalog));
                self.set_refusal(None);
            }
            Err(problems) => {
                let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
                tracing::error!(problems = ?problems, serving = %self.current().localizer.version(), "locale files refused; the last good set keeps serving");
                self.set_refusal(Some(Refusal {
                    fingerprint: print,
                    at: Timestamp::now(),
                    problems,
                }));
            }
        }
    }

    fn set_refusal(&self, refusal: Option<Refusal>) {
        if let Ok(mut slot) = self.refused.lock() {
            *slot = refusal;
        }
    }

    /// Reloads on every change of the folder and on SIGHUP, until dropped.
    pub async fn watch(self: Arc<Self>) {
        #[cfg(unix)]
        let mut hangup =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
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
                    _ = hangup_received => tracing::info!("SIGHUP: reloading locale files"),
                    () = tokio::time::sleep(WATCH_INTERVAL) => {}
                }
            }
            #[cfg(not(unix))]
            tokio::time::sleep(WATCH_INTERVAL).await;
            self.reload();
        }
    }
}
