//! Keywords: a whole message that says stop, start, or names a language.

use std::collections::HashMap;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// What a keyword message asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Keyword {
    Stop,
    Start,
    /// Switch to this locale.
    Language(String),
}

/// Folds a message for matching: NFKC, lower case, no punctuation, symbols
/// or emoji, Arabic hamza forms and vowel marks unified, spaces collapsed.
/// "STOP!", " stop 🛑" and "Stop." all become "stop".
pub fn fold(text: &str) -> String {
    collapse_spaces(folded_chars(text).map(as_space))
}

/// A punctuation mark read as the space between two words.
fn as_space(c: char) -> char {
    if c == PUNCTUATION { ' ' } else { c }
}

/// Stands for a punctuation mark in [`folded_chars`]: a space between
/// words ("n'envoyez" as "n envoyez"), or nothing at all ("s.t.o.p").
const PUNCTUATION: char = '\u{1F}';

/// The characters of [`fold`] before spaces collapse: a space stands for
/// each symbol or emoji, [`PUNCTUATION`] for each punctuation mark.
fn folded_chars(text: &str) -> impl Iterator<Item = char> + '_ {
    text.nfkc()
        .flat_map(char::to_lowercase)
        .scan(false, |in_word, c| {
            let folded = match c {
                'أ' | 'إ' | 'آ' | 'ٱ' => Some('ا'),
                'ى' => Some('ي'),
                // Harakat and tatweel: typed by some, never by most.
                '\u{064B}'..='\u{065F}' | '\u{0670}' | 'ـ' => None,
                // Turkish i: lower-casing leaves a dot of İ ("İPTAL" →
                // "i̇ptal"), and makes I an i where Turkish means ı ("ÇIK" →
                // "çik").
                '\u{0307}' => None,
                'ı' => Some('i'),
                c if c.is_alphanumeric() => Some(c),
                c => Some(match c.general_category_group() {
                    // Combining vowel signs (Devanagari matras and the
                    // like) belong to their words; the marks of an emoji
                    // (the variation selector of "❤️", a keycap's frame)
                    // go with it.
                    GeneralCategoryGroup::Mark if *in_word => c,
                    GeneralCategoryGroup::Punctuation => PUNCTUATION,
                    _ => ' ',
                }),
            };
            if let Some(c) = folded {
                *in_word = c.is_alphanumeric() || (*in_word && c != ' ' && c != PUNCTUATION);
            }
            Some(folded)
        })
        .flatten()
}

fn collapse_spaces(text: impl Iterator<Item = char>) -> String {
    text.collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every keyword of every locale, folded.
#[derive(Clone, Debug, Default)]
pub struct KeywordBook {
    words: HashMap<String, Keyword>,
    /// The most characters, spaces aside, that a folded keyword has.
    longest: usize,
}

impl KeywordBook {
    /// Adds comma-separated words. Returns the words that were already
    /// taken by another meaning, with that meaning, so a check can report
    /// the clash.
    pub fn add(&mut self, list: &str, keyword: &Keyword) -> Vec<(String, Keyword)> {
        let mut clashes = vec![];
        for word in list.split(',').map(fold).filter(|w| !w.is_empty()) {
            match self.words.get(&word) {
                Some(existing) if existing != keyword => clashes.push((word, existing.clone())),
                _ => {
                    let letters = word.chars().filter(|c| *c != ' ').count();
                    self.longest = self.longest.max(letters);
                    self.words.insert(word, keyword.clone());
                }
            }
        }
        clashes
    }

    /// The keyword a whole message is, if it is one.
    /// Folding stops as soon as the message is longer than every keyword,
    /// so a long message costs no more than a short one.
    pub fn classify(&self, text: &str) -> Option<&Keyword> {
        let mut folded = String::new();
        let mut letters = 0;
        for c in folded_chars(text) {
            if c != ' ' && c != PUNCTUATION {
                letters += 1;
                if letters > self.longest {
                    return None;
                }
            }
            folded.push(c);
        }
        let spaced = folded
            .chars()
            .map(|c| if c == PUNCTUATION { ' ' } else { c });
        let dropped = folded.chars().filter(|c| *c != PUNCTUATION);
        self.words
            .get(&collapse_spaces(spaced))
            .or_else(|| self.words.get(&collapse_spaces(dropped)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> KeywordBook {
        let mut book = KeywordBook::default();
        book.add("stop, unsubscribe, iptal, abonelikten çık", &Keyword::Stop);
        book.add("إيقاف, توقف", &Keyword::Stop);
        book.add("n'envoyez plus", &Keyword::Stop);
        book.add("start", &Keyword::Start);
        book.add("English", &Keyword::Language("en".into()));
        book.add("العربية, عربي", &Keyword::Language("ar".into()));
        book.add("español, espanol", &Keyword::Language("es".into()));
        book.add("हिन्दी, हिंदी, Hindi", &Keyword::Language("hi".into()));
        book
    }

    #[test]
    fn a_keyword_is_the_whole_message_whatever_its_case_and_punctuation() {
        let book = book();
        for stop in [
            "STOP",
            "stop",
            " Stop! ",
            "stop 🛑",
            "إيقاف",
            "ايقاف",
            "ＳＴＯＰ",
            // A Turkish keyboard's capital i is İ.
            "İPTAL",
            "İptal",
            "ABONELİKTEN ÇIK",
            "s.t.o.p",
            "S-T-O-P!",
            "stop ❤️",
            "N’envoyez plus !",
            "n envoyez plus",
            "STOP ‼️",
            "stop 🏳️‍🌈",
            "stop ⛔️",
            "«stop»",
            "إيقاف؟",
        ] {
            assert_eq!(book.classify(stop), Some(&Keyword::Stop), "{stop}");
        }
        assert_eq!(book.classify("stop please"), None);
        assert_eq!(book.classify("abonelikten çıkmak istiyorum"), None);
        assert_eq!(book.classify("don't stop"), None);
        assert_eq!(book.classify("stop.please"), None);
    }

    #[test]
    fn languages_are_named_not_coded() {
        let book = book();
        assert_eq!(
            book.classify("English"),
            Some(&Keyword::Language("en".into()))
        );
        assert_eq!(book.classify("عربي"), Some(&Keyword::Language("ar".into())));
        assert_eq!(
            book.classify("Español"),
            Some(&Keyword::Language("es".into()))
        );
        assert_eq!(book.classify("हिंदी"), Some(&Keyword::Language("hi".into())));
        assert_eq!(book.classify("Hi"), None);
        assert_eq!(book.classify("hi!"), None);
    }

    #[test]
    fn a_word_with_two_meanings_is_reported() {
        let mut book = book();
        assert_eq!(
            book.add("stop", &Keyword::Start),
            vec![("stop".to_string(), Keyword::Stop)]
        );
        assert_eq!(book.classify("stop"), Some(&Keyword::Stop));
    }
}
