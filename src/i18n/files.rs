//! A locale set as text: read from a folder, or from a published version
//! in the database.

use super::LocaleProblem;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// One `<tag>/sunset.ftl` and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocaleFile {
    pub tag: String,
    /// The file, or `published/<tag>/sunset.ftl` for a set from the database.
    pub path: PathBuf,
    pub source: String,
}

/// Every `<dir>/<tag>/sunset.ftl` with its text, sorted by tag.
pub fn read_locale_dir(dir: &Path) -> std::io::Result<Vec<LocaleFile>> {
    let mut files = vec![];
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path().join("sunset.ftl");
        if path.is_file() {
            let source = std::fs::read_to_string(&path)?;
            files.push(LocaleFile {
                tag: entry.file_name().to_string_lossy().into_owned(),
                path,
                source,
            });
        }
    }
    files.sort_by(|a, b| a.tag.cmp(&b.tag));
    Ok(files)
}

/// Folders of `dir` that hold no `sunset.ftl`: a locale begun but not
/// written, or its file misnamed. They are not served; the check names them.
pub fn folders_without_file(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut folders: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
        .map(|entry| entry.path())
        .filter(|path| path.is_dir() && !path.join("sunset.ftl").is_file())
        .collect();
    folders.sort();
    folders
}

/// As [`read_locale_dir`], with a failure told as a locale problem.
pub fn read_locale_set(dir: &Path) -> Result<Vec<LocaleFile>, Vec<LocaleProblem>> {
    read_locale_dir(dir).map_err(|e| {
        vec![LocaleProblem {
            file: dir.to_owned(),
            line: 0,
            problem: format!("cannot read the locale folder: {e}"),
        }]
    })
}

/// The version of a set: a short hash of its tags and texts.
pub fn version_of(files: &[LocaleFile]) -> String {
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(file.tag.as_bytes());
        hasher.update(file.source.as_bytes());
    }
    hex::encode(&hasher.finalize()[..6])
}

/// The version the folder would load as; cheap enough to poll.
pub fn fingerprint(dir: &Path) -> std::io::Result<String> {
    Ok(version_of(&read_locale_dir(dir)?))
}
