//! The shipped locale files and `sunset locales check`.

use crate::helpers::*;
use std::process::Command;
use sunset::domain::countdown::{Countdown, Phase};
use sunset::domain::notice::NoticeKind;
use sunset::i18n::check::check;
use sunset::i18n::{Localizer, NoticeArgs};

fn render(localizer: &Localizer, locale: &str, days: i64) -> String {
    let countdown = match days {
        0 => Countdown {
            phase: Phase::FinalDay,
            days_left: 0,
            hours_left: 5,
        },
        _ => Countdown {
            phase: Phase::Countdown,
            days_left: days,
            hours_left: days * 24,
        },
    };
    localizer
        .render(
            locale,
            NoticeKind::Notice,
            &NoticeArgs::sample(countdown, true),
        )
        .unwrap()
}

#[test]
fn the_shipped_locales_pass_the_check() {
    let problems = check(&shipped_locales(), &Default::default());
    assert!(problems.is_empty(), "{problems:#?}");
    let localizer = Localizer::load(&shipped_locales()).unwrap();
    let expected = [
        "ar", "de", "en", "es", "fa", "fr", "hi", "id", "it", "pt-BR", "ru", "tr", "ur",
    ];
    assert_eq!(localizer.locales(), expected);
}

#[test]
fn plural_forms_follow_current_cldr() {
    let localizer = Localizer::load(&shipped_locales()).unwrap();
    let cases: &[(&str, &[(i64, &str)])] = &[
        (
            "ar",
            &[
                (1, "يوم واحد"),
                (2, "يومان"),
                (3, "3 أيام"),
                (11, "11 يومًا"),
                (21, "21 يومًا"),
                (100, "100 يوم،"),
                (101, "101 يوم،"),
            ],
        ),
        (
            "ru",
            &[
                (1, "1 день"),
                (2, "2 дня"),
                (3, "3 дня"),
                (11, "11 дней"),
                (21, "21 день"),
                (100, "100 дней"),
                (101, "101 день"),
            ],
        ),
        (
            "en",
            &[
                (1, "Only 1 day left"),
                (2, "2 days left"),
                (21, "21 days left"),
                (101, "101 days left"),
            ],
        ),
        ("fr", &[(1, "un jour"), (2, "2 jours"), (101, "101 jours")]),
        ("de", &[(1, "1 Tag"), (3, "3 Tage")]),
        ("es", &[(1, "1 día"), (3, "3 días")]),
        ("tr", &[(1, "1 gün"), (21, "21 gün")]),
    ];
    for (locale, days) in cases {
        for (n, expected) in *days {
            let text = render(&localizer, locale, *n);
            assert!(
                text.contains(expected),
                "{locale} {n}: expected `{expected}` in {text}"
            );
        }
    }
    for locale in localizer.locales() {
        assert!(
            !render(&localizer, &locale, 0).is_empty(),
            "{locale} final day"
        );
    }
}

fn broken_copy(
    locale: &str,
    edit: impl Fn(&str) -> String,
) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&shipped_locales(), dir.path());
    let file = dir.path().join(locale).join("sunset.ftl");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, edit(&text)).unwrap();
    (dir, file)
}

fn problems_in(dir: &std::path::Path) -> Vec<String> {
    check(dir, &Default::default())
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Asserts the set's only problem is in `file` (at `line`, when given)
/// and says `what`.
fn assert_only_problem(
    dir: &std::path::Path,
    file: &std::path::Path,
    line: Option<usize>,
    what: &str,
) {
    let problems = problems_in(dir);
    let place = match line {
        Some(line) => format!("{}:{line}:", file.display()),
        None => file.display().to_string(),
    };
    assert!(
        problems.len() == 1 && problems[0].starts_with(&place) && problems[0].contains(what),
        "{problems:#?}"
    );
}

fn line_of(file: &std::path::Path, needle: &str) -> usize {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap()
        + 1
}

#[test]
fn an_unknown_variable_is_reported_at_its_message() {
    let (dir, file) = broken_copy("es", |t| t.replace("{ $days } días", "{ $dias } días"));
    let problems = problems_in(dir.path());
    let line = line_of(&file, "notice-countdown =");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(&format!("{}:{line}:", file.display())) && p.contains("$dias")),
        "{problems:#?}"
    );
}

#[test]
fn a_syntax_error_is_reported_at_its_line() {
    let (dir, file) = broken_copy("fr", |t| {
        t.replace(
            "stop-confirmation =\n    ",
            "stop-confirmation =\n    { $service\n    ",
        )
    });
    let problems = problems_in(dir.path());
    let line = line_of(&file, "stop-confirmation =");
    assert!(
        problems[0].starts_with(&format!("{}:", file.display())),
        "{problems:#?}"
    );
    let reported: usize = problems[0].split(':').nth(1).unwrap().parse().unwrap();
    // The parser stops where the closing brace should have been.
    assert!((line + 1..=line + 2).contains(&reported), "{problems:#?}");
}

#[test]
fn placeables_nested_thousands_deep_are_reported_instead_of_crashing_the_check() {
    let deep = format!("{}\"x\"{}", "{".repeat(3000), "}".repeat(3000));
    let (dir, file) = broken_copy("ru", |t| format!("{t}\nnested = {deep}\n"));
    let problems = problems_in(dir.path());
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(&file.display().to_string()) && p.contains("nest 3000 levels")),
        "{problems:#?}"
    );
}

#[test]
fn a_missing_message_or_a_dropped_link_is_reported() {
    let (dir, file) = broken_copy("de", |t| t.replace("keywords-start =", "keywords-begin ="));
    let problems = problems_in(dir.path());
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(&file.display().to_string()) && p.contains("keywords-start")),
        "{problems:#?}"
    );
    let (dir, file) = broken_copy("it", |t| t.replace("\n    { $app_link }", " { $app_link }"));
    let problems = problems_in(dir.path());
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(&file.display().to_string()) && p.contains("line of its own")),
        "{problems:#?}"
    );
    let (dir, file) = broken_copy("it", |t| t.replace("\n    { $app_link }", ""));
    let problems = problems_in(dir.path());
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(&file.display().to_string())
                && p.contains("/l/")
                && p.ends_with("is missing")),
        "{problems:#?}"
    );
}

#[test]
fn a_count_that_only_picks_the_plural_form_is_reported() {
    let (dir, file) = broken_copy("it", |t| t.replace("{ $days } giorni", "molti giorni"));
    let problems = problems_in(dir.path());
    let line = line_of(&file, "notice-countdown =");
    assert_eq!(
        problems,
        [format!(
            "{}:{line}: notice-countdown does not use $days (en does)",
            file.display()
        )]
    );
}

#[test]
fn a_url_written_inside_a_sentence_is_reported() {
    let (dir, file) = broken_copy("de", |t| {
        t.replacen(
            "stop-confirmation =\n    ",
            "stop-confirmation =\n    Hilfe unter https://example.com/hilfe.\n    ",
            1,
        )
    });
    assert_only_problem(dir.path(), &file, None, "a URL is not on a line of its own");
}

#[test]
fn a_misspelled_function_under_a_selector_is_reported() {
    // Fluent would quietly take the default variant: "1 days" forever.
    let (dir, file) = broken_copy("ar", |t| t.replacen("PLURAL($days)", "PLURL($days)", 1));
    let line = line_of(&file, "notice-countdown =");
    assert_only_problem(
        dir.path(),
        &file,
        Some(line),
        "PLURL(), which does not exist",
    );
}

#[test]
fn an_isolate_or_letter_mark_inside_a_url_is_reported() {
    for mark in [
        '\u{2068}', '\u{2067}', '\u{061C}', '\u{200B}', '\u{FEFF}', '\u{00AD}', '\u{2062}',
        '\u{180E}', '\u{034F}', '\u{FE0F}',
    ] {
        let (dir, file) = broken_copy("ar", |t| {
            t.replacen(
                "stop-confirmation =\n    ",
                &format!("stop-confirmation =\n    https://example.com/he{mark}lp\n    "),
                1,
            )
        });
        assert_only_problem(dir.path(), &file, None, "invisible mark");
    }
}

#[test]
fn a_language_code_among_language_names_is_reported() {
    let (dir, file) = broken_copy("hi", |t| {
        t.replacen("language-names = ", "language-names = hi, ", 1)
    });
    let line = line_of(&file, "language-names");
    assert_only_problem(
        dir.path(),
        &file,
        Some(line),
        "`hi` in language-names is a language code",
    );
}

#[test]
fn a_plural_variant_that_leaves_out_the_date_is_reported() {
    let (dir, file) = broken_copy("de", |t| {
        t.replacen(
            "Noch { $days } Tage: Der letzte Tag ist der { $deadline }.",
            "Noch { $days } Tage: Bald ist Schluss.",
            1,
        )
    });
    assert_only_problem(
        dir.path(),
        &file,
        Some(line_of(&file, "notice-countdown")),
        "notice-countdown: a variant leaves out $deadline (every variant in en shows it)",
    );
}

#[test]
fn a_selector_that_can_only_pick_its_default_is_reported() {
    let (dir, file) = broken_copy("de", |t| t.replacen("{ PLURAL($days) ->", "{ $days ->", 1));
    assert_only_problem(
        dir.path(),
        &file,
        Some(line_of(&file, "notice-countdown")),
        "`{ $days -> … }` never picks a plural form: write `{ PLURAL($days) -> … }`",
    );
    let (dir, file) = broken_copy("ar", |t| t.replacen("[few]", "[fwe]", 1));
    assert_only_problem(
        dir.path(),
        &file,
        Some(line_of(&file, "notice-countdown")),
        "`[fwe]` under PLURAL() is never picked",
    );
    // German has no `many`: "Noch 1 Tage".
    let (dir, file) = broken_copy("de", |t| t.replacen("[one]", "[many]", 1));
    assert_only_problem(
        dir.path(),
        &file,
        Some(line_of(&file, "notice-countdown")),
        "`[many]` under PLURAL() is never picked in de (it has one, other)",
    );
}

#[test]
fn a_message_defined_twice_is_reported_at_its_second_definition() {
    let (dir, file) = broken_copy("de", |t| format!("{t}\nstart-confirmation = noch einmal\n"));
    let line = line_of(&file, "noch einmal");
    assert_only_problem(dir.path(), &file, Some(line), "start-confirmation");
}

#[test]
fn a_message_en_does_not_have_and_a_keyword_clash_are_named() {
    let (dir, file) = broken_copy("de", |t| format!("{t}\nextra-msg = hallo\n"));
    assert_eq!(
        problems_in(dir.path()),
        [format!(
            "{}:{}: extra-msg: en has no such message (misspelled?)",
            file.display(),
            line_of(&file, "extra-msg")
        )]
    );
    let (dir, _) = broken_copy("de", |t| {
        t.replacen("language-names = ", "language-names = English, ", 1)
    });
    let problems = problems_in(dir.path()).join("\n");
    assert!(
        problems.contains("`english` in language-names is already the name of de"),
        "{problems}"
    );
}

#[test]
fn a_file_that_is_not_utf8_is_named_and_hides_no_other_file() {
    let (dir, broken) = broken_copy("fr", |t| t.replace("{ $app_link }", "{ $app_lnk }"));
    let latin1 = dir.path().join("de").join("sunset.ftl");
    let mut bytes = std::fs::read(&latin1).unwrap();
    bytes.extend_from_slice(b"\nnote = Gr\xfc\xdfe\n");
    std::fs::write(&latin1, bytes).unwrap();
    let with_bom = dir.path().join("it").join("sunset.ftl");
    let text = std::fs::read_to_string(&with_bom).unwrap();
    std::fs::write(&with_bom, format!("\u{FEFF}{text}")).unwrap();
    let problems = problems_in(dir.path());
    let lines = std::fs::read(&latin1)
        .unwrap()
        .iter()
        .filter(|b| **b == b'\n')
        .count();
    assert_eq!(
        problems[0],
        format!(
            "{}:{lines}: not UTF-8 text: save it as UTF-8",
            latin1.display()
        )
    );
    assert!(
        problems[1].starts_with(&broken.display().to_string()),
        "{problems:#?}"
    );
}

#[test]
fn a_locale_folder_without_its_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&shipped_locales(), dir.path());
    std::fs::create_dir(dir.path().join("sw")).unwrap();
    std::fs::write(dir.path().join("sw").join("messages.ftl"), "").unwrap();
    let problems = problems_in(dir.path());
    let expected = dir.path().join("sw").join("sunset.ftl");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with(&format!("{}: missing", expected.display())),
        "{problems:#?}"
    );
}

#[test]
fn a_file_that_does_not_parse_hides_no_other_files_problems() {
    let (dir, broken) = broken_copy("fr", |t| {
        t.replace("notice-countdown =", "notice-countdown = {")
    });
    let unlinked = dir.path().join("id").join("sunset.ftl");
    let text = std::fs::read_to_string(&unlinked).unwrap();
    std::fs::write(
        &unlinked,
        text.replacen("\n    { $app_link }", " { $app_link }", 1),
    )
    .unwrap();
    let problems = problems_in(dir.path());
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].starts_with(&broken.display().to_string()),
        "{problems:#?}"
    );
    assert!(
        problems[1].starts_with(&unlinked.display().to_string())
            && problems[1].contains("line of its own"),
        "{problems:#?}"
    );
}

#[test]
fn the_cli_check_exits_1_with_file_and_line_on_a_broken_set() {
    let no_settings_file = tempfile::tempdir().unwrap();
    let run = |dir: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_sunset"))
            .args(["locales", "check"])
            .current_dir(no_settings_file.path())
            .env_remove("SUNSET_CONFIG")
            .env("SUNSET_CAMPAIGN__DEADLINE", "2027-06-30T23:59:59Z")
            .env("SUNSET_LOCALES__DIR", dir)
            .output()
            .unwrap()
    };
    let good = run(&shipped_locales());
    assert_eq!(
        good.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&good.stdout)
    );
    let (dir, file) = broken_copy("ru", |t| t.replace("notice-ended =", "notice-ended = {"));
    let bad = run(dir.path());
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains(&format!("{}:", file.display())));
}

#[test]
fn a_page_line_with_a_variable_a_page_does_not_have_is_reported() {
    let (dir, file) = broken_copy("de", |t| {
        t.replacen(
            "link-expired-title = Dieser Link ist abgelaufen",
            "link-expired-title = Abgelaufen { $days }",
            1,
        )
    });
    let line = line_of(&file, "link-expired-title =");
    assert_only_problem(
        dir.path(),
        &file,
        Some(line),
        "link-expired-title uses $days: a page has only $service",
    );
}
