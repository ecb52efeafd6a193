//! A locale file as `sunset locales check` and the loader see it. The input
//! is the folder name (the locale tag) on the first line, then the file;
//! the English reference is checked beside it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use sunset::i18n::{LocaleFile, NoticeArgs};
use sunset::i18n::check::{REFERENCE_LOCALE, check_files};

const REFERENCE: &str = include_str!("../../locales/en/sunset.ftl");

fn locale_file(tag: &str, source: &str) -> LocaleFile {
    LocaleFile {
        tag: tag.to_owned(),
        path: Path::new("locales").join(tag).join("sunset.ftl"),
        source: source.to_owned(),
    }
}

fuzz_target!(|input: &[u8]| {
    // The loader reads files as UTF-8 and refuses anything else first.
    let Ok(input) = std::str::from_utf8(input) else {
        return;
    };
    let (tag, source) = input.split_once('\n').unwrap_or((REFERENCE_LOCALE, input));
    let mut files = vec![locale_file(tag, source)];
    if tag != REFERENCE_LOCALE {
        files.push(locale_file(REFERENCE_LOCALE, REFERENCE));
    }
    files.sort_by(|a, b| a.tag.cmp(&b.tag));
    let _ = check_files(Path::new("locales"), &files, &NoticeArgs::default());
});
