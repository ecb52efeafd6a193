//! Loading, checking and rendering one set of locale files.

use super::check::{REFERENCE_LOCALE, message_line, second_definition};
use super::files::{LocaleFile, read_locale_set, version_of};
use super::parse::parse_resource;
use super::{MAX_BODY_CHARS, NoticeArgs, REQUIRED_MESSAGES, RenderError, format, message_id};
use crate::domain::countdown::{Countdown, Phase};
use crate::domain::keywords::{Keyword, KeywordBook};
use crate::domain::locale::language;
use crate::domain::notice::NoticeKind;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentError, FluentResource, FluentValue};
use icu_plurals::{PluralCategory, PluralRules};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use unic_langid::LanguageIdentifier;

type Bundle = FluentBundle<FluentResource>;

/// One thing wrong with a locale file, as `file:line: problem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocaleProblem {
    pub file: PathBuf,
    pub line: usize,
    pub problem: String,
}

/// `file:line: problem`, or `file: problem` for the file as a whole.
impl fmt::Display for LocaleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.file.display(), self.problem),
            line => write!(f, "{}:{line}: {}", self.file.display(), self.problem),
        }
    }
}

/// A checked set of locales, ready to render.
pub struct Localizer {
    bundles: BTreeMap<String, Bundle>,
    keywords: KeywordBook,
    version: String,
}

impl fmt::Debug for Localizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Localizer")
            .field("locales", &self.bundles.keys().collect::<Vec<_>>())
            .field("version", &self.version)
            .finish()
    }
}

impl Localizer {
    /// Loads every `<dir>/<tag>/sunset.ftl`. Any syntax error, missing
    /// message or bad keyword list refuses the whole set; how the messages
    /// render is [`super::check::check_files`]'s to check.
    pub fn load(dir: &Path) -> Result<Self, Vec<LocaleProblem>> {
        Self::from_files(dir, &read_locale_set(dir)?)
    }

    /// Builds and checks a set from its texts (`origin` names it in problems).
    pub fn from_files(origin: &Path, files: &[LocaleFile]) -> Result<Self, Vec<LocaleProblem>> {
        if files.is_empty() {
            return Err(vec![LocaleProblem {
                file: origin.to_owned(),
                line: 0,
                problem: "no <locale>/sunset.ftl files".into(),
            }]);
        }
        let mut problems = vec![];
        let mut bundles = BTreeMap::new();
        for file in files {
            match build_bundle(file) {
                Ok(bundle) => {
                    bundles.insert(file.tag.clone(), bundle);
                }
                Err(mut found) => problems.append(&mut found),
            }
        }
        let mut localizer = Self {
            bundles,
            keywords: KeywordBook::default(),
            version: version_of(files),
        };
        for file in files {
            if !localizer.bundles.contains_key(&file.tag) {
                continue;
            }
            problems.extend(localizer.missing_messages(file));
            problems.extend(localizer.add_keywords(file));
        }
        if problems.is_empty() {
            Ok(localizer)
        } else {
            Err(problems)
        }
    }

    /// Whether `tag` (exactly) is loaded.
    pub fn has_locale(&self, tag: &str) -> bool {
        self.bundles.contains_key(tag)
    }

    /// The locale tags loaded, e.g. `["ar", "en"]`.
    pub fn locales(&self) -> Vec<String> {
        self.bundles.keys().cloned().collect()
    }

    /// Every locale's stop, start and language words.
    pub fn keywords(&self) -> &KeywordBook {
        &self.keywords
    }

    fn add_keywords(&mut self, file: &LocaleFile) -> Vec<LocaleProblem> {
        let tag = file.tag.as_str();
        let mut problems = vec![];
        let lists = [
            ("keywords-stop", Keyword::Stop),
            ("keywords-start", Keyword::Start),
            ("language-names", Keyword::Language(tag.to_owned())),
        ];
        let at = |id, problem| LocaleProblem {
            file: file.path.clone(),
            line: message_line(&file.source, id),
            problem,
        };
        for (id, keyword) in lists {
            let Ok(words) = self.format(tag, id, &FluentArgs::new()) else {
                continue;
            };
            if matches!(keyword, Keyword::Language(_)) {
                problems.extend(self.language_codes(&words).map(|code| {
                    at(id, format!(
                        "`{code}` in language-names is a language code, not a name: a user writing it would be switched to {tag}"
                    ))
                }));
            }
            for (clash, meaning) in self.keywords.add(&words, &keyword) {
                let meaning = match meaning {
                    Keyword::Stop => "a stop keyword (keywords-stop)".to_owned(),
                    Keyword::Start => "a start keyword (keywords-start)".to_owned(),
                    Keyword::Language(other) => format!("the name of {other} (its language-names)"),
                };
                problems.push(at(id, format!("`{clash}` in {id} is already {meaning}")));
            }
        }
        problems
    }

    /// The words of a `language-names` list that are language codes, not
    /// names: a code is an everyday word somewhere ("Hi" is a greeting,
    /// not Hindi; "de", "it"), and a user who wrote it would be switched.
    fn language_codes<'w>(&self, words: &'w str) -> impl Iterator<Item = &'w str> + use<'_, 'w> {
        let is_code = |word: &str| {
            word.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
                && (word.len() == 2
                    || self.bundles.keys().any(|tag| {
                        tag.eq_ignore_ascii_case(word) || language(tag).eq_ignore_ascii_case(word)
                    }))
        };
        words
            .split(',')
            .map(str::trim)
            .filter(move |word| is_code(word))
    }

    /// A short hash of the files: the template version recorded with each notice.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The text of a notice, exactly as it will be sent.
    pub fn render(
        &self,
        locale: &str,
        kind: NoticeKind,
        args: &NoticeArgs,
    ) -> Result<String, RenderError> {
        let id = message_id(kind, args.countdown.phase);
        let text = self.format(locale, id, &fluent_args(locale, args))?;
        let chars = text.chars().count();
        if chars > MAX_BODY_CHARS {
            return Err(RenderError::TooLong {
                locale: locale.into(),
                id: id.into(),
                chars,
            });
        }
        Ok(text)
    }

    /// A line of a page we show in the browser (`link-expired-title` …),
    /// in `locale`, else in English; `None` when neither has it.
    pub fn page_text(&self, locale: &str, id: &str, service: &str) -> Option<String> {
        let mut args = FluentArgs::new();
        args.set("service", service.to_owned());
        [locale, REFERENCE_LOCALE]
            .into_iter()
            .find_map(|locale| self.format(locale, id, &args).ok())
    }

    fn format(&self, locale: &str, id: &str, args: &FluentArgs) -> Result<String, RenderError> {
        let bundle = self
            .bundles
            .get(locale)
            .ok_or_else(|| RenderError::UnknownLocale(locale.into()))?;
        let pattern = bundle
            .get_message(id)
            .and_then(|m| m.value())
            .ok_or_else(|| RenderError::MissingMessage {
                locale: locale.into(),
                id: id.into(),
            })?;
        let mut errors = vec![];
        let text = bundle.format_pattern(pattern, Some(args), &mut errors);
        // Fluent reports a missing variable only here, after quietly
        // rendering `{$name}`: such a text must never go out.
        if !errors.is_empty() {
            let problems = errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            return Err(RenderError::Broken {
                locale: locale.into(),
                id: id.into(),
                problems,
            });
        }
        Ok(text.trim().to_owned())
    }

    /// Every required message must be there; rendering them is the full
    /// check's work ([`super::check::check_files`]).
    fn missing_messages(&self, file: &LocaleFile) -> Vec<LocaleProblem> {
        let bundle = &self.bundles[file.tag.as_str()];
        REQUIRED_MESSAGES
            .iter()
            .filter(|id| bundle.get_message(id).and_then(|m| m.value()).is_none())
            .map(|id| LocaleProblem {
                file: file.path.clone(),
                line: 1,
                problem: format!("message `{id}` is missing"),
            })
            .collect()
    }
}

/// Example values: three days left, linking on.
impl Default for NoticeArgs {
    fn default() -> Self {
        Self::sample(
            Countdown {
                phase: Phase::Countdown,
                days_left: 3,
                hours_left: 72,
            },
            true,
        )
    }
}

impl NoticeArgs {
    /// Values for checks and previews.
    pub fn sample(countdown: Countdown, linking: bool) -> Self {
        Self {
            service: "Acme Assistant".into(),
            countdown,
            last_day: jiff::civil::date(2027, 6, 30),
            app_link: "https://example.com/l/PREVIEW".into(),
            link_account: linking.then(|| "https://example.com/link/PREVIEW".into()),
            ios: "https://apps.apple.com/app/id000000000".into(),
            android: "https://play.google.com/store/apps/details?id=com.example".into(),
            web: "https://example.com/app".into(),
            vars: BTreeMap::new(),
            country: None,
        }
    }
}

fn fluent_args(locale: &str, args: &NoticeArgs) -> FluentArgs<'static> {
    let regional = format::regional_format(locale, args.country.as_deref());
    let mut out = FluentArgs::new();
    for (key, value) in &args.vars {
        out.set(key.clone(), value.clone());
    }
    out.set("service", args.service.clone());
    out.set("days", regional.number(args.countdown.days_left));
    out.set("hours", regional.number(args.countdown.hours_left));
    out.set("deadline", regional.date(args.last_day));
    out.set("app_link", args.app_link.clone());
    out.set("ios", args.ios.clone());
    out.set("android", args.android.clone());
    out.set("web", args.web.clone());
    out.set(
        "linking",
        if args.link_account.is_some() {
            "on"
        } else {
            "off"
        },
    );
    if let Some(link) = &args.link_account {
        out.set("link_account", link.clone());
    }
    out
}

fn build_bundle(file: &LocaleFile) -> Result<Bundle, Vec<LocaleProblem>> {
    let tag = file.tag.as_str();
    let at = |line, problem: String| LocaleProblem {
        file: file.path.clone(),
        line,
        problem,
    };
    let langid: LanguageIdentifier = tag
        .parse()
        .map_err(|_| vec![at(0, format!("`{tag}` is not a locale tag (folder name)"))])?;
    let resource = parse_resource(file.source.clone()).map_err(|problems| {
        problems
            .into_iter()
            .map(|(line, problem)| at(line, problem))
            .collect::<Vec<_>>()
    })?;
    let mut bundle = Bundle::new_concurrent(vec![langid]);
    bundle.set_use_isolating(false);
    let rules = plural_rules(tag).map_err(|p| vec![at(0, p)])?;
    bundle
        .add_function(PLURAL, move |positional, _named| {
            plural_category(&rules, positional)
        })
        .map_err(|e| vec![at(0, e.to_string())])?;
    bundle.add_resource(resource).map_err(|errors| {
        errors
            .iter()
            .map(|e| {
                let line = match e {
                    FluentError::Overriding { id, .. } => second_definition(&file.source, id),
                    _ => 0,
                };
                at(line, e.to_string())
            })
            .collect::<Vec<_>>()
    })?;
    Ok(bundle)
}

/// `PLURAL($n)`: the CLDR category of `$n`.
pub const PLURAL: &str = "PLURAL";
/// The functions a message may call.
pub const FUNCTIONS: [&str; 1] = [PLURAL];

fn plural_rules(tag: &str) -> Result<PluralRules, String> {
    let locale = icu_locale_core::Locale::try_from_str(tag).map_err(|e| format!("`{tag}`: {e}"))?;
    PluralRules::try_new_cardinal((&locale).into())
        .map_err(|e| format!("no plural rules for `{tag}`: {e}"))
}

/// `PLURAL($days)`: the CLDR cardinal category (zero, one, two, few, many,
/// other) from ICU4X, which carries current CLDR data.
fn plural_category<'a>(rules: &PluralRules, positional: &[FluentValue<'a>]) -> FluentValue<'a> {
    let Some(number) = positional.first().and_then(format::number_of) else {
        return FluentValue::Error;
    };
    FluentValue::String(category_name(rules.category_for(number.max(0.0) as u64)).into())
}

fn category_name(category: PluralCategory) -> &'static str {
    match category {
        PluralCategory::Zero => "zero",
        PluralCategory::One => "one",
        PluralCategory::Two => "two",
        PluralCategory::Few => "few",
        PluralCategory::Many => "many",
        PluralCategory::Other => "other",
    }
}

/// The categories the locale `tag` has (CLDR's), or `None` for a tag
/// without plural rules.
pub fn plural_categories(tag: &str) -> Option<BTreeSet<&'static str>> {
    let rules = plural_rules(tag).ok()?;
    Some(rules.categories().map(category_name).collect())
}
