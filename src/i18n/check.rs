//! `sunset locales check`: everything a locale set must satisfy before a
//! product team ships it, reported as `file:line: problem`.

use super::files::folders_without_file;
use super::{
    LocaleFile, LocaleProblem, Localizer, NoticeArgs, REQUIRED_MESSAGES, message_id,
    read_locale_set,
};
use crate::domain::countdown::{Countdown, Phase};
use crate::domain::notice::NoticeKind;
use fluent_syntax::ast;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The reference locale every other is compared with.
pub const REFERENCE_LOCALE: &str = "en";
/// Day counts every countdown message is rendered with.
pub const CHECKED_DAYS: std::ops::RangeInclusive<i64> = 0..=400;

/// Invisible direction marks: inside a URL they break it.
const BIDI_CONTROLS: [char; 9] = [
    '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}',
    '\u{2069}',
];

/// Checks the folder; an empty list means the set may be served.
/// `sample` holds the campaign's own values (service, links, variables),
/// with a link code and token as long as real ones.
pub fn check(dir: &Path, sample: &NoticeArgs) -> Vec<LocaleProblem> {
    let mut problems = match read_locale_set(dir) {
        Ok(files) => check_files(dir, &files, sample).err().unwrap_or_default(),
        Err(problems) => problems,
    };
    problems.extend(
        folders_without_file(dir)
            .into_iter()
            .map(|folder| LocaleProblem {
                file: folder.join("sunset.ftl"),
                line: 0,
                problem: "missing: this locale folder has no sunset.ftl, so it is not served"
                    .into(),
            }),
    );
    problems
}

/// Checks a set given as texts (`origin` names it in problems), and
/// returns it ready to render if it passes.
pub fn check_files(
    origin: &Path,
    files: &[LocaleFile],
    sample: &NoticeArgs,
) -> Result<Localizer, Vec<LocaleProblem>> {
    let mut problems = vec![];
    let localizer = Localizer::from_files(origin, files).or_else(|broken| {
        // The files that do load are checked all the same, so that one
        // broken file hides no other's problems.
        let sound: Vec<LocaleFile> = files
            .iter()
            .filter(|f| !broken.iter().any(|p| p.file == f.path))
            .cloned()
            .collect();
        problems.extend(broken);
        Localizer::from_files(origin, &sound)
    });
    if let Ok(localizer) = &localizer {
        // Against a broken reference every locale would differ.
        let reference_broken = files
            .iter()
            .any(|f| f.tag == REFERENCE_LOCALE && !localizer.has_locale(&f.tag));
        if !reference_broken {
            let loaded: Vec<LocaleFile> = files
                .iter()
                .filter(|f| localizer.has_locale(&f.tag))
                .cloned()
                .collect();
            problems.extend(compare_variables(&loaded));
        }
        for file in files.iter().filter(|f| localizer.has_locale(&f.tag)) {
            problems.extend(check_renders(
                localizer,
                &file.tag,
                &file.path,
                &file.source,
                sample,
            ));
        }
    }
    match localizer {
        Ok(localizer) if problems.is_empty() => Ok(localizer),
        _ => {
            problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
            Err(problems)
        }
    }
}

/// Every (kind, phase, days, linking, country) a notice can be rendered in.
fn cases() -> impl Iterator<Item = (NoticeKind, Countdown, bool, Option<&'static str>)> {
    let countdowns = CHECKED_DAYS
        .map(|days| match days {
            0 => Countdown {
                phase: Phase::FinalDay,
                days_left: 0,
                hours_left: 1,
            },
            days => Countdown {
                phase: Phase::Countdown,
                days_left: days,
                hours_left: days * 24,
            },
        })
        .chain((2..=24).map(|hours| Countdown {
            phase: Phase::FinalDay,
            days_left: 0,
            hours_left: hours,
        }))
        .chain([Countdown {
            phase: Phase::Ended,
            days_left: 0,
            hours_left: 0,
        }]);
    let notices = countdowns.map(|c| (NoticeKind::Notice, c));
    let confirmations = [NoticeKind::StopConfirmation, NoticeKind::StartConfirmation].map(|kind| {
        (
            kind,
            Countdown {
                phase: Phase::Countdown,
                days_left: 3,
                hours_left: 72,
            },
        )
    });
    notices.chain(confirmations).flat_map(|(kind, countdown)| {
        [
            (true, None),
            (false, None),
            (true, Some("EG")),
            (true, Some("IN")),
        ]
        .into_iter()
        .map(move |(linking, country)| (kind, countdown, linking, country))
    })
}

fn check_renders(
    localizer: &Localizer,
    locale: &str,
    file: &Path,
    source: &str,
    sample: &NoticeArgs,
) -> Vec<LocaleProblem> {
    let mut reported = BTreeSet::new();
    let mut problems = vec![];
    let mut args = sample.clone();
    for (kind, countdown, linking, country) in cases() {
        let id = message_id(kind, countdown.phase);
        if reported.contains(id) {
            continue;
        }
        args.countdown = countdown;
        args.country = country.map(str::to_owned);
        args.link_account = sample.link_account.clone().filter(|_| linking);
        let problem = match localizer.render(locale, kind, &args) {
            Err(error) => Some(error.to_string()),
            Ok(text) => url_problem(&text, &args, kind),
        };
        if let Some(problem) = problem {
            let line = message_line(source, id);
            problems.push(LocaleProblem {
                file: file.to_owned(),
                line,
                problem: format!(
                    "{id} ({} days, linking {}): {problem}",
                    countdown.days_left,
                    if linking { "on" } else { "off" }
                ),
            });
            reported.insert(id);
        }
    }
    problems
}

/// Links must arrive whole: each URL (a link variable or one written in the
/// text) on a line of its own, no direction mark on that line, and no link
/// of a notice missing.
fn url_problem(text: &str, args: &NoticeArgs, kind: NoticeKind) -> Option<String> {
    if text
        .lines()
        .any(|line| line.contains("://") && line.contains(BIDI_CONTROLS))
    {
        return Some("an invisible direction mark stands on a line with a URL".into());
    }
    if let Some(line) = text
        .lines()
        .map(str::trim)
        .find(|line| line.contains("://") && line.contains(char::is_whitespace))
    {
        return Some(format!("a URL is not on a line of its own: `{line}`"));
    }
    if kind != NoticeKind::Notice {
        return None;
    }
    let mut urls = vec![&args.app_link];
    urls.extend(args.link_account.as_ref());
    urls.into_iter()
        .find(|url| !text.lines().any(|line| line.trim() == url.as_str()))
        .map(|url| format!("the link {url} is not on a line of its own"))
}

/// Each message must show the reference locale's variables, no more, no
/// fewer (in any of its variants).
fn compare_variables(files: &[LocaleFile]) -> Vec<LocaleProblem> {
    let Some(reference) = files.iter().find(|f| f.tag == REFERENCE_LOCALE) else {
        let folder = files
            .first()
            .and_then(|f| f.path.parent()?.parent())
            .unwrap_or(Path::new("."));
        return vec![LocaleProblem {
            file: folder.join(REFERENCE_LOCALE).join("sunset.ftl"),
            line: 0,
            problem: "the reference locale en is missing".into(),
        }];
    };
    let reference = variables_by_message(&reference.source);
    let mut problems = vec![];
    for LocaleFile {
        tag: _,
        path: file,
        source,
    } in files.iter().filter(|f| f.tag != REFERENCE_LOCALE)
    {
        let theirs = variables_by_message(source);
        for id in REQUIRED_MESSAGES {
            let (expected, found) = (
                reference.get(id).cloned().unwrap_or_default(),
                theirs.get(id).cloned().unwrap_or_default(),
            );
            let missing: Vec<_> = expected
                .difference(&found)
                .map(|v| format!("${v}"))
                .collect();
            let unknown: Vec<_> = found
                .difference(&expected)
                .map(|v| format!("${v}"))
                .collect();
            let at = |problem| LocaleProblem {
                file: file.clone(),
                line: message_line(source, id),
                problem,
            };
            if !missing.is_empty() {
                problems.push(at(format!(
                    "{id} does not use {} (en does)",
                    missing.join(", ")
                )));
            }
            if !unknown.is_empty() {
                problems.push(at(format!(
                    "{id} uses {} (en does not)",
                    unknown.join(", ")
                )));
            }
        }
    }
    problems
}

fn variables_by_message(source: &str) -> BTreeMap<String, BTreeSet<String>> {
    let resource = match fluent_syntax::parser::parse(source) {
        Ok(resource) | Err((resource, _)) => resource,
    };
    let mut out = BTreeMap::new();
    for entry in resource.body {
        if let ast::Entry::Message(message) = entry {
            let mut found = BTreeSet::new();
            if let Some(pattern) = &message.value {
                pattern_variables(pattern, &mut found);
            }
            out.insert(message.id.name.to_owned(), found);
        }
    }
    out
}

fn pattern_variables(pattern: &ast::Pattern<&str>, found: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_variables(expression, found);
        }
    }
}

fn expression_variables(expression: &ast::Expression<&str>, found: &mut BTreeSet<String>) {
    match expression {
        // A variable that only picks the variant is not shown: "molti
        // giorni" under `{ $days -> … }` tells the user no number.
        ast::Expression::Select { variants, .. } => {
            for variant in variants {
                pattern_variables(&variant.value, found);
            }
        }
        ast::Expression::Inline(inline) => inline_variables(inline, found),
    }
}

fn inline_variables(inline: &ast::InlineExpression<&str>, found: &mut BTreeSet<String>) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            found.insert(id.name.to_owned());
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for argument in &arguments.positional {
                inline_variables(argument, found);
            }
        }
        ast::InlineExpression::Placeable { expression } => expression_variables(expression, found),
        _ => {}
    }
}

/// The line a message starts on.
pub fn message_line(source: &str, id: &str) -> usize {
    source
        .lines()
        .position(|line| line.split('=').next().is_some_and(|head| head.trim() == id))
        .map_or(1, |i| i + 1)
}
