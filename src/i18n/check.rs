//! `sunset locales check`: everything a locale set must satisfy before a
//! product team ships it, reported as `file:line: problem`.

use super::bundle::{FUNCTIONS, PLURAL, plural_categories};
use super::files::{FILE_NAME, folders_without_file, read_locale_files};
use super::{
    LocaleFile, LocaleProblem, Localizer, NoticeArgs, PAGE_MESSAGES, REQUIRED_MESSAGES, message_id,
};
use crate::domain::countdown::{Countdown, Phase};
use crate::domain::notice::NoticeKind;
use fluent_syntax::ast;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::LazyLock;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// The reference locale every other is compared with.
pub const REFERENCE_LOCALE: &str = "en";
/// Day counts every countdown message is rendered with.
pub const CHECKED_DAYS: std::ops::RangeInclusive<i64> = 0..=400;

/// Whether a character is invisible, and so breaks a URL it lands in:
/// every format character (direction marks and isolates, which Fluent's
/// own isolation writes as U+2068 and U+2069, the Arabic letter mark,
/// zero-width spaces and joiners, the byte order mark, the soft hyphen,
/// invisible operators), and the other characters Unicode says to
/// ignore when not shown (the combining grapheme joiner, variation
/// selectors, Hangul fillers).
fn is_invisible(c: char) -> bool {
    c.general_category() == GeneralCategory::Format
        || matches!(
            c,
            '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FFA0}'
                | '\u{E0100}'..='\u{E01EF}'
        )
}

/// Checks the folder; an empty list means the set may be served.
/// `sample` holds the campaign's own values (service, links, variables),
/// with a link code and token as long as real ones.
pub fn check(dir: &Path, sample: &NoticeArgs) -> Vec<LocaleProblem> {
    checked_set(dir, sample).1
}

/// As [`check`], with the files as they were read and checked: what
/// `locales publish` stores, read once.
pub fn checked_set(dir: &Path, sample: &NoticeArgs) -> (Vec<LocaleFile>, Vec<LocaleProblem>) {
    let (files, mut problems) = match read_locale_files(dir) {
        Ok(read) => read,
        Err(problem) => (vec![], vec![problem]),
    };
    // When no file could be read, "no files" would only add noise.
    if !files.is_empty() || problems.is_empty() {
        problems.extend(check_files(dir, &files, sample).err().unwrap_or_default());
    }
    problems.extend(
        folders_without_file(dir)
            .into_iter()
            .map(|folder| LocaleProblem {
                file: folder.join(FILE_NAME),
                line: 0,
                problem: "missing: this locale folder has no sunset.ftl, so it is not served"
                    .into(),
            }),
    );
    (files, problems)
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
        // Only files that parsed are compared and walked: a deep nesting
        // is refused by the parser before it could exhaust the stack here.
        let loaded: Vec<LocaleFile> = files
            .iter()
            .filter(|f| localizer.has_locale(&f.tag))
            .cloned()
            .collect();
        // Against a broken reference every locale would differ.
        let reference_broken = files
            .iter()
            .any(|f| f.tag == REFERENCE_LOCALE && !localizer.has_locale(&f.tag));
        // Each file parsed once for what its messages use.
        let parsed: Vec<Parsed> = loaded
            .iter()
            .map(|file| Parsed {
                file,
                uses: uses_by_message(&file.source),
            })
            .collect();
        if !reference_broken {
            problems.extend(compare_variables(&parsed));
            problems.extend(page_variables(&parsed));
        }
        problems.extend(parsed.iter().flat_map(default_only_selectors));
        for file in &loaded {
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
        .any(|line| line.contains("://") && line.contains(is_invisible))
    {
        return Some(
            "an invisible mark (a direction mark, an isolate or a zero-width character) stands on a line with a URL"
                .into(),
        );
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
        .map(|url| {
            if text.contains(url.as_str()) {
                format!("the link {url} is not on a line of its own")
            } else {
                format!("the link {url} is missing")
            }
        })
}

/// A page's lines are rendered with `$service` alone: any other variable
/// would send the page back to English.
fn page_variables(files: &[Parsed]) -> Vec<LocaleProblem> {
    let mut problems = vec![];
    for Parsed { file, uses } in files {
        for id in PAGE_MESSAGES {
            let Some(used) = uses.get(id) else { continue };
            let unknown: Vec<_> = used
                .variables
                .iter()
                .filter(|v| v.as_str() != "service")
                .map(|v| format!("${v}"))
                .collect();
            if !unknown.is_empty() {
                problems.push(LocaleProblem {
                    file: file.path.clone(),
                    line: message_line(&file.source, id),
                    problem: format!("{id} uses {}: a page has only $service", unknown.join(", ")),
                });
            }
        }
    }
    problems
}

/// Each message must show the reference locale's variables, no more, no
/// fewer (in any of its variants).
fn compare_variables<'a>(files: &'a [Parsed]) -> Vec<LocaleProblem> {
    let Some(reference) = files.iter().find(|p| p.file.tag == REFERENCE_LOCALE) else {
        let folder = files
            .first()
            .and_then(|p| p.file.path.parent()?.parent())
            .unwrap_or(Path::new("."));
        return vec![LocaleProblem {
            file: folder.join(REFERENCE_LOCALE).join(FILE_NAME),
            line: 0,
            problem: "the reference locale en is missing".into(),
        }];
    };
    let reference = &reference.uses;
    static NONE: LazyLock<Uses> = LazyLock::new(Uses::default);
    let of = |uses: &'a BTreeMap<String, Uses>, id| uses.get(id).unwrap_or(&NONE);
    let mut problems = vec![];
    for Parsed { file, uses: theirs } in files.iter().filter(|p| p.file.tag != REFERENCE_LOCALE) {
        let (file, source) = (&file.path, &file.source);
        for id in theirs.keys().filter(|id| !reference.contains_key(*id)) {
            problems.push(LocaleProblem {
                file: file.clone(),
                line: message_line(source, id),
                problem: format!("{id}: en has no such message (misspelled?)"),
            });
        }
        for id in REQUIRED_MESSAGES {
            let (ours, their) = (of(reference, id), of(theirs, id));
            let (expected, found) = (&ours.variables, &their.variables);
            let missing: Vec<_> = expected
                .difference(found)
                .map(|v| format!("${v}"))
                .collect();
            let unknown: Vec<_> = found
                .difference(expected)
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
            let left_out: Vec<_> = ours
                .always
                .difference(&their.always)
                .filter(|v| found.contains(*v))
                .map(|v| format!("${v}"))
                .collect();
            if !left_out.is_empty() {
                problems.push(at(format!(
                    "{id}: a variant leaves out {} (every variant in en shows it)",
                    left_out.join(", ")
                )));
            }
        }
    }
    problems
}

/// A loaded file and what each of its messages uses.
struct Parsed<'a> {
    file: &'a LocaleFile,
    uses: BTreeMap<String, Uses>,
}

/// What a message's text uses: the variables it shows and the functions
/// it calls.
#[derive(Default)]
struct Uses {
    variables: BTreeSet<String>,
    functions: BTreeSet<String>,
    /// The variables it shows whichever variant is picked.
    always: BTreeSet<String>,
    /// Selectors whose variants cannot all be chosen, said why.
    selector_problems: Vec<String>,
    /// The keys of the variants under `PLURAL()` other than the default:
    /// each must be a category the locale gives for some count.
    plural_keys: BTreeSet<String>,
}

fn uses_by_message(source: &str) -> BTreeMap<String, Uses> {
    let resource = match fluent_syntax::parser::parse(source) {
        Ok(resource) | Err((resource, _)) => resource,
    };
    let mut out = BTreeMap::new();
    for entry in resource.body {
        if let ast::Entry::Message(message) = entry {
            let mut found = Uses::default();
            if let Some(pattern) = &message.value {
                found.pattern(pattern);
                found.always = always_shown(pattern);
            }
            out.insert(message.id.name.to_owned(), found);
        }
    }
    out
}

impl Uses {
    fn pattern(&mut self, pattern: &ast::Pattern<&str>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                self.expression(expression);
            }
        }
    }

    fn expression(&mut self, expression: &ast::Expression<&str>) {
        match expression {
            // A variable that only picks the variant is not shown: "molti
            // giorni" under `{ $days -> … }` tells the user no number. A
            // function there is still called.
            ast::Expression::Select { selector, variants } => {
                self.selector_problems
                    .extend(selector_problem(selector, variants));
                if matches!(selector, ast::InlineExpression::FunctionReference { id, .. } if id.name == PLURAL)
                {
                    self.plural_keys.extend(
                        variants
                            .iter()
                            .filter(|variant| !variant.default)
                            .map(variant_key),
                    );
                }
                let shown = std::mem::take(&mut self.variables);
                self.inline(selector);
                self.variables = shown;
                for variant in variants {
                    self.pattern(&variant.value);
                }
            }
            ast::Expression::Inline(inline) => self.inline(inline),
        }
    }

    fn inline(&mut self, inline: &ast::InlineExpression<&str>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => {
                self.variables.insert(id.name.to_owned());
            }
            ast::InlineExpression::FunctionReference { id, arguments } => {
                self.functions.insert(id.name.to_owned());
                for argument in &arguments.positional {
                    self.inline(argument);
                }
            }
            ast::InlineExpression::Placeable { expression } => self.expression(expression),
            _ => {}
        }
    }
}

/// The variables a pattern shows in every one of its variants: "Noch
/// { $days } Tage" in one plural variant and "Nur noch 1 Tag" in another
/// always shows neither the count, nor, if only one variant has it, the
/// date.
fn always_shown(pattern: &ast::Pattern<&str>) -> BTreeSet<String> {
    fn shown_by(expression: &ast::Expression<&str>) -> BTreeSet<String> {
        match expression {
            ast::Expression::Select { variants, .. } => variants
                .iter()
                .map(|variant| always_shown(&variant.value))
                .reduce(|all, next| all.intersection(&next).cloned().collect())
                .unwrap_or_default(),
            ast::Expression::Inline(ast::InlineExpression::VariableReference { id }) => {
                BTreeSet::from([id.name.to_owned()])
            }
            ast::Expression::Inline(ast::InlineExpression::Placeable { expression: inner }) => {
                shown_by(inner)
            }
            ast::Expression::Inline(_) => BTreeSet::new(),
        }
    }
    pattern
        .elements
        .iter()
        .filter_map(|element| match element {
            ast::PatternElement::Placeable { expression } => Some(shown_by(expression)),
            ast::PatternElement::TextElement { .. } => None,
        })
        .flatten()
        .collect()
}

/// Why a selector would quietly pick its default variant where another was
/// meant, if it would. Fluent compares a variable's text with the keys, so
/// `{ $days -> [one] … }` never picks `[one]` for "1" (the count is text,
/// in the user's digits). The keys under `PLURAL()` depend on the locale
/// ([`default_only_selectors`]).
fn selector_problem(
    selector: &ast::InlineExpression<&str>,
    variants: &[ast::Variant<&str>],
) -> Option<String> {
    match selector {
        ast::InlineExpression::VariableReference { id } if ["days", "hours"].contains(&id.name) => {
            Some(format!(
                "`{{ ${0} -> … }}` never picks a plural form: write `{{ PLURAL(${0}) -> … }}`",
                id.name
            ))
        }
        ast::InlineExpression::VariableReference { id } if id.name == "linking" => variants
            .iter()
            .map(variant_key)
            .find(|name| !["on", "off"].contains(&name.as_str()))
            .map(|name| format!("`[{name}]` under $linking is never picked (it is on or off)")),
        _ => None,
    }
}

fn variant_key(variant: &ast::Variant<&str>) -> String {
    match variant.key {
        ast::VariantKey::Identifier { name } | ast::VariantKey::NumberLiteral { value: name } => {
            name.to_owned()
        }
    }
}

/// Selectors that would quietly pick their default variant: with a
/// function that does not exist (`PLURL($days)` would write "1 days"
/// forever; shown outside a selector it fails loudly), or with keys the
/// selector never gives ([`selector_problem`]).
fn default_only_selectors(parsed: &Parsed) -> Vec<LocaleProblem> {
    let file = parsed.file;
    let mut problems = vec![];
    // A tag without plural rules fails to load: nothing to compare here.
    let given = plural_categories(&file.tag).unwrap_or_default();
    let has = given.iter().copied().collect::<Vec<_>>().join(", ");
    for (id, uses) in &parsed.uses {
        for key in uses
            .plural_keys
            .iter()
            .filter(|key| !given.is_empty() && !given.contains(key.as_str()))
        {
            problems.push(LocaleProblem {
                file: file.path.clone(),
                line: message_line(&file.source, id),
                problem: format!(
                    "{id}: `[{key}]` under PLURAL() is never picked in {} (it has {has})",
                    file.tag
                ),
            });
        }
        for problem in &uses.selector_problems {
            problems.push(LocaleProblem {
                file: file.path.clone(),
                line: message_line(&file.source, id),
                problem: format!("{id}: {problem}"),
            });
        }
        for function in uses
            .functions
            .iter()
            .filter(|f| !FUNCTIONS.contains(&f.as_str()))
        {
            problems.push(LocaleProblem {
                file: file.path.clone(),
                line: message_line(&file.source, id),
                problem: format!(
                    "{id} calls {function}(), which does not exist (there is {})",
                    FUNCTIONS.map(|f| format!("{f}()")).join(", ")
                ),
            });
        }
    }
    problems
}

/// The line a message starts on.
pub fn message_line(source: &str, id: &str) -> usize {
    definition_lines(source, id).next().unwrap_or(1)
}

/// The line a message or term is defined on a second time, or 0.
pub fn second_definition(source: &str, id: &str) -> usize {
    definition_lines(source, id).nth(1).unwrap_or(0)
}

/// The lines (from 1) where `id`, or the term `-id`, is defined.
fn definition_lines<'s>(source: &'s str, id: &'s str) -> impl Iterator<Item = usize> + 's {
    source
        .lines()
        .enumerate()
        .filter(move |(_, line)| {
            line.split('=').next().is_some_and(|head| {
                let head = head.trim();
                head.strip_prefix('-').unwrap_or(head) == id
            })
        })
        .map(|(index, _)| index + 1)
}
