//! The locale set being served, swapped whole when the files change and
//! pass the check; a refused set never reaches a user.

use super::NoticeArgs;
use super::bundle::{LocaleProblem, Localizer};
use super::check::check_files;
use super::files::{LocaleFile, read_locale_set, version_of};
use crate::domain::locale::LocaleChooser;
use arc_swap::ArcSwap;
use jiff::Timestamp;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A checked locale set and the chooser over its locales.
#[derive(Debug)]
pub struct Catalog {
    pub localizer: Localizer,
    pub chooser: Arc<LocaleChooser>,
}

impl Catalog {
    /// Loads the folder if it passes the check (`sunset locales check`,
    /// rendered with `sample`); the default locale must be among them.
    pub fn load(
        dir: &Path,
        default_locale: &str,
        sample: &NoticeArgs,
    ) -> Result<Self, Vec<LocaleProblem>> {
        Self::from_files(dir, &read_locale_set(dir)?, default_locale, sample)
    }

    /// Checks a set given as texts.
    pub fn from_files(
        origin: &Path,
        files: &[LocaleFile],
        default_locale: &str,
        sample: &NoticeArgs,
    ) -> Result<Self, Vec<LocaleProblem>> {
        let localizer = check_files(origin, files, sample)?;
        let chooser = LocaleChooser::new(localizer.locales(), default_locale.to_owned());
        if chooser.supported(default_locale).is_none() {
            return Err(vec![LocaleProblem {
                file: origin.to_owned(),
                line: 0,
                problem: format!(
                    "campaign.default_locale `{default_locale}` has no <locale>/sunset.ftl here"
                ),
            }]);
        }
        Ok(Self {
            localizer,
            chooser: Arc::new(chooser),
        })
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
    /// The campaign's values every new set is checked with.
    sample: NoticeArgs,
    refused: Mutex<Option<Refusal>>,
    /// The version of the folder when the service started.
    first_folder_version: String,
}

impl LiveCatalog {
    pub fn new(catalog: Catalog, dir: PathBuf, default_locale: String, sample: NoticeArgs) -> Self {
        Self {
            first_folder_version: catalog.localizer.version().to_owned(),
            current: ArcSwap::from_pointee(catalog),
            dir,
            default_locale,
            sample,
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

    /// The version the folder had when this catalog was built from it.
    pub fn first_folder_version(&self) -> &str {
        &self.first_folder_version
    }

    /// The folder the files are read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Loads the folder if what it holds is new.
    pub fn reload(&self) {
        self.load(read_locale_set(&self.dir));
    }

    /// Serves the folder's files as read, if new; what kept them from
    /// being read is a refusal.
    pub fn load(&self, read: Result<Vec<LocaleFile>, Vec<LocaleProblem>>) {
        match read {
            Ok(files) => self.install(&self.dir, &files),
            Err(problems) => self.refuse("unreadable".into(), &problems),
        }
    }

    /// Serves `files` if they pass the check and differ from what is served.
    /// A set that fails the check is refused and the one in service stays.
    pub fn install(&self, origin: &Path, files: &[LocaleFile]) {
        let version = version_of(files);
        if version == self.current().localizer.version() {
            // Back to the set in service: a refusal of another is over.
            self.set_refusal(None);
            return;
        }
        if self.refusal().is_some_and(|r| r.fingerprint == version) {
            return;
        }
        match Catalog::from_files(origin, files, &self.default_locale, &self.sample) {
            Ok(catalog) => {
                tracing::info!(version = %catalog.localizer.version(), from = %origin.display(), locales = ?catalog.localizer.locales(), "locale files loaded");
                self.current.store(Arc::new(catalog));
                self.set_refusal(None);
            }
            Err(problems) => self.refuse(version, &problems),
        }
    }

    /// Keeps the set in service and shows why the new one was refused.
    fn refuse(&self, fingerprint: String, problems: &[LocaleProblem]) {
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        tracing::error!(problems = ?problems, serving = %self.current().localizer.version(), "locale files refused; the last good set keeps serving");
        self.set_refusal(Some(Refusal {
            fingerprint,
            at: Timestamp::now(),
            problems,
        }));
    }

    fn set_refusal(&self, refusal: Option<Refusal>) {
        if let Ok(mut slot) = self.refused.lock() {
            *slot = refusal;
        }
    }
}
