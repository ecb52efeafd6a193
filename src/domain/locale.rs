//! Which language a user is answered in, and why.

use super::ids::Country;
use std::fmt;
use std::sync::{Arc, LazyLock};

/// Why a locale was chosen, recorded with every inbound message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocaleSource {
    Keyword,
    Stored,
    Text,
    Country,
    Default,
}

impl LocaleSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyword => "keyword",
            Self::Stored => "stored",
            Self::Text => "text",
            Self::Country => "country",
            Self::Default => "default",
        }
    }
}

impl fmt::Display for LocaleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Picks a locale among those the campaign has, in the contract's order:
/// the stored choice, the language of the text, the country, the default.
#[derive(Clone, Debug)]
pub struct LocaleChooser {
    available: Vec<String>,
    default: String,
    /// Listens for the shipped Latin-script languages and for any other
    /// the campaign has a locale in.
    latin: Arc<whatlang::Detector>,
}

impl LocaleChooser {
    pub fn new(available: Vec<String>, default: String) -> Self {
        let latin = Arc::new(latin_detector(&available));
        Self {
            available,
            default,
            latin,
        }
    }

    pub fn default_locale(&self) -> &str {
        &self.default
    }

    pub fn choose(
        &self,
        stored: Option<&str>,
        text: Option<&str>,
        country: Option<Country>,
    ) -> (String, LocaleSource) {
        self.choose_detected(stored, || self.detect(text, country))
    }

    /// The stored choice if we still have it, else what `detected` says.
    /// Detection is the costly part: callers may run it ahead of time.
    pub fn choose_detected(
        &self,
        stored: Option<&str>,
        detected: impl FnOnce() -> (String, LocaleSource),
    ) -> (String, LocaleSource) {
        match stored.and_then(|tag| self.supported(tag)) {
            Some(locale) => (locale, LocaleSource::Stored),
            None => detected(),
        }
    }

    /// The locale for someone with no stored choice: the language of the
    /// text, else the country's, else the default.
    pub fn detect(&self, text: Option<&str>, country: Option<Country>) -> (String, LocaleSource) {
        let candidates = [
            (
                text.and_then(|t| language_of_text_with(&self.latin, t, country))
                    .and_then(|lang| self.supported(lang)),
                LocaleSource::Text,
            ),
            (
                country
                    .and_then(language_of_country)
                    .and_then(|lang| self.supported(lang)),
                LocaleSource::Country,
            ),
        ];
        candidates
            .into_iter()
            .find_map(|(locale, source)| locale.map(|l| (l, source)))
            .unwrap_or_else(|| (self.default.clone(), LocaleSource::Default))
    }

    /// The locale we have for a tag: the exact one, else the one with the
    /// same language (pt → pt-BR, ar-EG → ar).
    pub fn supported(&self, tag: &str) -> Option<String> {
        self.available
            .iter()
            .find(|have| have.eq_ignore_ascii_case(tag))
            .or_else(|| self.available.iter().find(|have| same_language(have, tag)))
            .cloned()
    }
}

/// The language a short text is written in, when it can be told: the
/// script decides first (so Urdu and Persian are never taken for Arabic),
/// then a detector for Latin-script text long enough to judge. "ok", emoji
/// and digits decide nothing.
/// The shipped locales' Latin-script languages are always listened for.
pub fn language_of_text(text: &str, country: Option<Country>) -> Option<&'static str> {
    language_of_text_with(&SHIPPED_LATIN_DETECTOR, text, country)
}

fn language_of_text_with(
    latin: &whatlang::Detector,
    text: &str,
    country: Option<Country>,
) -> Option<&'static str> {
    language_of_script(text, country).or_else(|| language_of_latin_text(latin, text))
}

/// `rtl` for the languages written right to left, else `ltr`: an HTML
/// `dir`.
pub fn direction(locale: &str) -> &'static str {
    match language(locale) {
        "ar" | "fa" | "ur" | "he" | "ps" | "sd" | "yi" => "rtl",
        _ => "ltr",
    }
}

/// The language part of a locale tag: `pt-BR` → `pt`.
pub fn language(tag: &str) -> &str {
    tag.split(['-', '_']).next().unwrap_or("")
}

/// Whether two tags name the same language, whatever their case and region.
fn same_language(a: &str, b: &str) -> bool {
    language(a).eq_ignore_ascii_case(language(b))
}

/// The Latin-script languages the detector knows, with their tags.
const LATIN_LANGUAGES: [(whatlang::Lang, &str); 36] = [
    (whatlang::Lang::Eng, "en"),
    (whatlang::Lang::Spa, "es"),
    (whatlang::Lang::Por, "pt"),
    (whatlang::Lang::Fra, "fr"),
    (whatlang::Lang::Deu, "de"),
    (whatlang::Lang::Ita, "it"),
    (whatlang::Lang::Ind, "id"),
    (whatlang::Lang::Tur, "tr"),
    (whatlang::Lang::Nld, "nl"),
    (whatlang::Lang::Pol, "pl"),
    (whatlang::Lang::Ron, "ro"),
    (whatlang::Lang::Hrv, "hr"),
    (whatlang::Lang::Hun, "hu"),
    (whatlang::Lang::Ces, "cs"),
    (whatlang::Lang::Slk, "sk"),
    (whatlang::Lang::Slv, "sl"),
    (whatlang::Lang::Swe, "sv"),
    (whatlang::Lang::Dan, "da"),
    (whatlang::Lang::Nob, "nb"),
    (whatlang::Lang::Fin, "fi"),
    (whatlang::Lang::Est, "et"),
    (whatlang::Lang::Lav, "lv"),
    (whatlang::Lang::Lit, "lt"),
    (whatlang::Lang::Vie, "vi"),
    (whatlang::Lang::Tgl, "tl"),
    (whatlang::Lang::Jav, "jv"),
    (whatlang::Lang::Uzb, "uz"),
    (whatlang::Lang::Aze, "az"),
    (whatlang::Lang::Tuk, "tk"),
    (whatlang::Lang::Zul, "zu"),
    (whatlang::Lang::Afr, "af"),
    (whatlang::Lang::Sna, "sn"),
    (whatlang::Lang::Aka, "ak"),
    (whatlang::Lang::Cat, "ca"),
    (whatlang::Lang::Cym, "cy"),
    (whatlang::Lang::Epo, "eo"),
];

/// The Latin-script languages of the shipped locales. Every other one is
/// listened for only when the campaign has a locale in it: each more costs
/// time on every message, and close neighbours take each other's texts.
const SHIPPED_LATIN: [&str; 8] = ["en", "es", "pt", "fr", "de", "it", "id", "tr"];

/// A detector of the shipped Latin-script languages and `available`'s.
fn latin_detector(available: &[String]) -> whatlang::Detector {
    let wanted = LATIN_LANGUAGES
        .iter()
        .filter(|(_, tag)| {
            SHIPPED_LATIN.contains(tag) || available.iter().any(|have| same_language(have, tag))
        })
        .map(|(lang, _)| *lang)
        .collect();
    whatlang::Detector::with_allowlist(wanted)
}

/// Fewer letters than this is a greeting or a word: the country knows better.
const MIN_LETTERS_TO_DETECT: usize = 12;
// On short chat messages whatlang is often wrong with some confidence:
// "kannst du mir bitte helfen" is Turkish at 0.36, "por qué ya no me
// respondes" Portuguese at 0.39. Right answers below that are left to the
// country, which reads the same language for most users; a wrong language
// is worse than that.
const MIN_CONFIDENCE: f64 = 0.45;

/// Words English has and the detector's other languages do not (or, like
/// "i" and "to", only as short words that a text of theirs does not fill
/// half of). whatlang reads short English as a neighbour ("Hello how are
/// you": Italian at 0.18, "Hello, where can I download the new app?":
/// English at only 0.17), and English is the language most often written
/// from a country that speaks another. In byte order, for a binary
/// search; none longer than [`LONGEST_ENGLISH_WORD`].
const ENGLISH_WORDS: [&str; 68] = [
    "about", "account", "again", "and", "any", "anyone", "app", "are", "can", "chat", "chats",
    "could", "did", "does", "download", "for", "friend", "from", "get", "good", "happened", "has",
    "have", "hello", "help", "hey", "hi", "history", "how", "i", "is", "it", "just", "keep",
    "know", "link", "morning", "my", "need", "night", "not", "of", "please", "should", "still",
    "thank", "thanks", "that", "the", "there", "this", "to", "want", "was", "were", "what", "when",
    "where", "which", "who", "why", "will", "with", "work", "working", "would", "you", "your",
];
const LONGEST_ENGLISH_WORD: usize = 8;

/// At least two words, and half of them, are English ones, in the opening
/// of the text. Runs on every Latin-script message, so it counts without
/// building a word list.
fn mostly_english(text: &str) -> bool {
    let (mut words, mut english) = (0, 0);
    for word in opening(text)
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
    {
        words += 1;
        if is_english_word(word) {
            english += 1;
        }
    }
    english >= 2 && english * 2 >= words
}

fn is_english_word(word: &str) -> bool {
    if word.len() > LONGEST_ENGLISH_WORD || !word.is_ascii() {
        return false;
    }
    let mut lower = [0; LONGEST_ENGLISH_WORD];
    let lower = &mut lower[..word.len()];
    lower.copy_from_slice(word.as_bytes());
    lower.make_ascii_lowercase();
    ENGLISH_WORDS
        .binary_search_by(|known| known.as_bytes().cmp(lower))
        .is_ok()
}

/// The characters of a message the detector reads. Its cost grows with the
/// text (50 µs for 300 characters, 20 µs for 150) and its answer does not
/// change past a sentence or two, so a long message costs no more.
const DETECTED_CHARS: usize = 150;

/// The opening of a long text, cut between words.
fn opening(text: &str) -> &str {
    let Some((end, _)) = text.char_indices().nth(DETECTED_CHARS) else {
        return text;
    };
    let head = &text[..end];
    head.rfind(char::is_whitespace)
        .map_or(head, |cut| &head[..cut])
}

static SHIPPED_LATIN_DETECTOR: LazyLock<whatlang::Detector> = LazyLock::new(|| latin_detector(&[]));

fn language_of_latin_text(latin: &whatlang::Detector, text: &str) -> Option<&'static str> {
    // Two English words say more than twelve letters: "thank you".
    if mostly_english(text) {
        return Some("en");
    }
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    if letters < MIN_LETTERS_TO_DETECT || text.split_whitespace().count() < 2 {
        return None;
    }
    let info = latin.detect(opening(text))?;
    if info.script() != whatlang::Script::Latin || info.confidence() < MIN_CONFIDENCE {
        return None;
    }
    LATIN_LANGUAGES
        .iter()
        .find(|(lang, _)| *lang == info.lang())
        .map(|(_, tag)| *tag)
}

fn language_of_script(text: &str, country: Option<Country>) -> Option<&'static str> {
    let mut arabic_script = false;
    let mut urdu_letters = false;
    let mut persian_or_urdu_letters = false;
    // Arabic's own kaf, yeh, teh marbuta and alef maksura: Persian and
    // Urdu keyboards write ک and ی, and have no ة.
    let mut arabic_letters = false;
    for c in text.chars() {
        match c {
            'ے' | 'ں' | 'ٹ' | 'ڈ' | 'ڑ' | 'ھ' | 'ہ' => urdu_letters = true,
            'پ' | 'چ' | 'ژ' | 'گ' | 'ک' | 'ی' => persian_or_urdu_letters = true,
            'ك' | 'ي' | 'ة' | 'ى' => arabic_letters = true,
            '\u{0900}'..='\u{097F}' => return Some("hi"),
            '\u{0400}'..='\u{04FF}' => return Some("ru"),
            _ => {}
        }
        arabic_script |= matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
            && c.is_alphabetic();
    }
    let urdu_country = country.is_some_and(|c| matches!(c.as_str(), "PK" | "IN"));
    let persian_country = country.is_some_and(|c| matches!(c.as_str(), "IR" | "AF"));
    match (arabic_script, urdu_letters, persian_or_urdu_letters) {
        (true, true, _) => Some("ur"),
        (true, false, true) if urdu_country => Some("ur"),
        (true, false, true) => Some("fa"),
        (true, false, false) if arabic_letters => Some("ar"),
        // Letters all three share ("سلام"): the country tells them apart.
        (true, false, false) if urdu_country => Some("ur"),
        (true, false, false) if persian_country => Some("fa"),
        (true, false, false) => Some("ar"),
        _ => None,
    }
}

/// The language most users of a country read: a product table, not CLDR's
/// likely subtags (which say Wolof for Senegal, where notices go in French).
pub fn language_of_country(country: Country) -> Option<&'static str> {
    let language = match country.as_str() {
        "AE" | "BH" | "DZ" | "EG" | "IQ" | "JO" | "KW" | "LB" | "LY" | "MA" | "OM" | "PS"
        | "QA" | "SA" | "SD" | "SY" | "TN" | "YE" | "MR" => "ar",
        "AR" | "BO" | "CL" | "CO" | "CR" | "CU" | "DO" | "EC" | "ES" | "GT" | "HN" | "MX"
        | "NI" | "PA" | "PE" | "PR" | "PY" | "SV" | "UY" | "VE" | "GQ" => "es",
        "BR" | "PT" | "AO" | "MZ" | "CV" | "GW" | "ST" | "TL" => "pt",
        "FR" | "BE" | "LU" | "MC" | "SN" | "CI" | "ML" | "BF" | "NE" | "TG" | "BJ" | "GN"
        | "CM" | "GA" | "CG" | "CD" | "MG" | "HT" | "RE" => "fr",
        "DE" | "AT" | "LI" | "CH" => "de",
        "IT" | "SM" | "VA" => "it",
        "IN" => "hi",
        "PK" => "ur",
        "IR" | "AF" => "fa",
        "ID" => "id",
        "TR" => "tr",
        "RU" | "BY" | "KZ" | "KG" => "ru",
        "US" | "GB" | "IE" | "AU" | "NZ" | "CA" | "NG" | "GH" | "KE" | "ZA" | "JM" | "SG"
        | "PH" => "en",
        // Languages no shipped locale speaks, for a campaign that adds one.
        "NL" | "SR" | "AW" | "CW" => "nl",
        "PL" => "pl",
        "UA" => "uk",
        "RO" | "MD" => "ro",
        "HU" => "hu",
        "CZ" => "cs",
        "SK" => "sk",
        "SI" => "sl",
        "HR" => "hr",
        "RS" | "ME" => "sr",
        "BG" => "bg",
        "GR" | "CY" => "el",
        "SE" => "sv",
        "DK" => "da",
        "NO" => "nb",
        "FI" => "fi",
        "EE" => "et",
        "LV" => "lv",
        "LT" => "lt",
        "AL" | "XK" => "sq",
        "MK" => "mk",
        "IS" => "is",
        "IL" => "he",
        "GE" => "ka",
        "AM" => "hy",
        "AZ" => "az",
        "UZ" => "uz",
        "JP" => "ja",
        "KR" => "ko",
        "CN" | "TW" | "HK" | "MO" => "zh",
        "VN" => "vi",
        "TH" => "th",
        "MY" | "BN" => "ms",
        "BD" => "bn",
        "LK" => "si",
        "NP" => "ne",
        "MM" => "my",
        "KH" => "km",
        "ET" => "am",
        "TZ" => "sw",
        _ => return None,
    };
    Some(language)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chooser() -> LocaleChooser {
        LocaleChooser::new(vec!["en".into(), "ar".into(), "pt-BR".into()], "en".into())
    }

    fn country(code: &str) -> Option<Country> {
        Country::parse(code)
    }

    #[test]
    fn the_stored_choice_comes_first() {
        let picked = chooser().choose(Some("en"), Some("مرحبا"), country("EG"));
        assert_eq!(picked, ("en".into(), LocaleSource::Stored));
    }

    #[test]
    fn the_english_words_are_in_order_for_their_search() {
        assert!(ENGLISH_WORDS.is_sorted());
        assert!(
            ENGLISH_WORDS
                .iter()
                .all(|w| w.len() <= LONGEST_ENGLISH_WORD)
        );
        assert!(is_english_word("Download") && is_english_word("I"));
        assert!(!is_english_word("downloads") && !is_english_word("thé"));
    }

    #[test]
    fn arabic_script_means_arabic_but_urdu_and_persian_letters_do_not() {
        assert_eq!(
            chooser().choose(None, Some("مرحبا"), country("US")),
            ("ar".into(), LocaleSource::Text)
        );
        assert_eq!(language_of_text("آپ کیسے ہیں", country("PK")), Some("ur"));
        assert_eq!(language_of_text("سلام، چطوری؟", country("IR")), Some("fa"));
        assert_eq!(language_of_text("ok 👍 123", country("EG")), None);
        // "سلام" has only letters the three share.
        assert_eq!(language_of_text("سلام", country("IR")), Some("fa"));
        assert_eq!(language_of_text("سلام", country("PK")), Some("ur"));
        assert_eq!(language_of_text("سلام", country("EG")), Some("ar"));
        // Arabic's own letters (ك, ي, ة) are Arabic from any country.
        let arabic = "من فضلك ساعدني، ماذا سيحدث لحسابي عندما تتوقف الخدمة؟";
        for from in ["IR", "PK", "IN", "US"] {
            assert_eq!(
                language_of_text(arabic, country(from)),
                Some("ar"),
                "{from}"
            );
        }
        assert_eq!(
            language_of_text("سلام، حالت چطوره؟", country("IR")),
            Some("fa")
        );
    }

    #[test]
    fn latin_sentences_are_detected_but_greetings_are_not() {
        let detect = |t| language_of_text(t, None);
        assert_eq!(
            detect("Bonjour, est-ce que le service fonctionne encore ?"),
            Some("fr")
        );
        assert_eq!(detect("Hola, ¿todavía funciona la aplicación?"), Some("es"));
        assert_eq!(
            detect("Hi! Is the app still working? I can't log in."),
            Some("en")
        );
        assert_eq!(detect("Olá tudo bem com você"), Some("pt"));
        // Too close to call: left to the country rather than guessed wrong.
        assert_eq!(detect("Olá, o aplicativo ainda está funcionando?"), None);
        assert_eq!(detect("Hallo, warum antwortest du nicht mehr?"), Some("de"));
        // Short English, which whatlang reads as Italian or barely knows.
        for english in [
            "Hello how are you",
            "How do I link my account",
            "I want to keep my chats",
            "I need help",
            "thank you",
            "good morning",
            "what happened",
            "hello again friend",
        ] {
            assert_eq!(detect(english), Some("en"), "{english}");
        }
        assert_eq!(detect("Hello ChatGPT how are you"), Some("en"));
        assert_eq!(
            detect("Hello, where can I download the new app?"),
            Some("en")
        );
        // Short texts whatlang reads as a neighbour: the country decides.
        assert_eq!(detect("kannst du mir bitte helfen"), None);
        assert_eq!(detect("por qué ya no me respondes"), None);
        assert_eq!(detect("salut ça va mon ami"), None);
        assert_eq!(detect("Hi"), None);
        assert_eq!(detect("ok"), None);
        assert_eq!(detect("👍👍"), None);
        assert_eq!(detect("12345 678"), None);
    }

    #[test]
    fn the_opening_of_a_long_message_decides_its_language() {
        let german = "Hallo zusammen, funktioniert der Dienst eigentlich noch? Ich komme seit heute \
            Morgen nicht mehr in mein Konto und brauche dringend meine alten Nachrichten.";
        let portuguese = " O aplicativo ainda está funcionando? Não consigo entrar na minha conta \
            desde ontem e preciso das conversas antigas com meus clientes.";
        let long = format!("{german}{}", portuguese.repeat(20));
        assert_eq!(language_of_text(&long, None), Some("de"));
        // Cut between words, within the limit.
        assert!(opening(&long).chars().count() <= DETECTED_CHARS);
        assert!(german.starts_with(&format!("{} ", opening(&long))));
    }

    #[test]
    fn the_country_decides_when_the_text_does_not() {
        assert_eq!(
            chooser().choose(None, Some("👍"), country("EG")),
            ("ar".into(), LocaleSource::Country)
        );
        assert_eq!(
            chooser().choose(None, Some("oi"), country("BR")),
            ("pt-BR".into(), LocaleSource::Country)
        );
        assert_eq!(
            chooser().choose(None, Some("hallo"), country("DE")),
            ("en".into(), LocaleSource::Default)
        );
    }

    #[test]
    fn a_locale_the_campaign_adds_is_reached_by_its_text_and_its_countries() {
        let dutch = "Goedemorgen, ik wil graag weten wanneer de dienst stopt";
        let with_dutch =
            LocaleChooser::new(vec!["en".into(), "de".into(), "nl".into()], "en".into());
        // The detector hears Dutch, not German, but not surely enough to
        // overrule the country: a wrong language is worse than the country's.
        assert_eq!(
            with_dutch.choose(None, Some(dutch), country("US")),
            ("en".into(), LocaleSource::Country)
        );
        assert_eq!(
            with_dutch.choose(None, Some("ok"), country("NL")),
            ("nl".into(), LocaleSource::Country)
        );
        assert_eq!(
            with_dutch.choose(
                None,
                Some("Guten Morgen, ich möchte wissen, was mit meinen Nachrichten passiert, wenn der Dienst eingestellt wird."),
                None
            ),
            ("de".into(), LocaleSource::Text)
        );
    }

    #[test]
    fn a_language_we_have_in_one_form_maps_to_it() {
        assert_eq!(chooser().supported("pt").as_deref(), Some("pt-BR"));
        assert_eq!(chooser().supported("ar-EG").as_deref(), Some("ar"));
        assert_eq!(chooser().supported("de"), None);
    }
}
