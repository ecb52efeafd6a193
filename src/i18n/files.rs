//! A locale set as text: read from a folder, or from a published version
//! in the database.

use super::LocaleProblem;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The file each locale folder holds.
pub const FILE_NAME: &str = "sunset.ftl";

/// One `<tag>/sunset.ftl` and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocaleFile {
    pub tag: String,
    /// The file, or `published/<tag>/sunset.ftl` for a set from the database.
    pub path: PathBuf,
    pub source: String,
}

/// Every `<locale>/sunset.ftl` of `dir` that reads as text, sorted by
/// tag, and a problem for each that does not: one bad file hides no other.
/// A byte order mark some editors write is dropped. Only a folder that
/// cannot be listed is an error.
pub fn read_locale_files(
    dir: &Path,
) -> Result<(Vec<LocaleFile>, Vec<LocaleProblem>), LocaleProblem> {
    let unreadable = |file: &Path, line, problem: String| LocaleProblem {
        file: file.to_owned(),
        line,
        problem,
    };
    let unlisted =
        |e: std::io::Error| unreadable(dir, 0, format!("cannot read the locale folder: {e}"));
    let entries = std::fs::read_dir(dir).map_err(unlisted)?;
    let mut files = vec![];
    let mut problems = vec![];
    for entry in entries {
        let entry = entry.map_err(unlisted)?;
        let path = entry.path().join(FILE_NAME);
        if !path.is_file() {
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                problems.push(unreadable(&path, 0, format!("cannot read: {e}")));
                continue;
            }
        };
        match String::from_utf8(bytes) {
            Ok(source) => files.push(LocaleFile {
                tag: entry.file_name().to_string_lossy().into_owned(),
                path,
                source: source
                    .strip_prefix('\u{FEFF}')
                    .map(str::to_owned)
                    .unwrap_or(source),
            }),
            Err(e) => {
                let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
                problems.push(unreadable(
                    &path,
                    line,
                    "not UTF-8 text: save it as UTF-8".into(),
                ));
            }
        }
    }
    files.sort_by(|a, b| a.tag.cmp(&b.tag));
    problems.sort_by(|a, b| a.file.cmp(&b.file));
    Ok((files, problems))
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
        .filter(|path| path.is_dir() && !path.join(FILE_NAME).is_file())
        .collect();
    folders.sort();
    folders
}

/// The folder's files, or every problem that kept one from being read.
pub fn read_locale_set(dir: &Path) -> Result<Vec<LocaleFile>, Vec<LocaleProblem>> {
    match read_locale_files(dir) {
        Ok((files, problems)) if problems.is_empty() => Ok(files),
        Ok((_, problems)) => Err(problems),
        Err(problem) => Err(vec![problem]),
    }
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
