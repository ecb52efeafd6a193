//! Who a message is from: the phone number (`wa_id`) and the business-scoped
//! user id (BSUID), each parsed once at the edge.

use std::fmt;

/// A WhatsApp phone number as the Cloud API writes it: digits only, no `+`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct WaId(String);

impl WaId {
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim().trim_start_matches('+');
        let digits_only = raw.bytes().all(|b| b.is_ascii_digit());
        (digits_only && (5..=20).contains(&raw.len())).then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ISO country of the number, from its calling code and prefix.
    /// A number the metadata cannot place (a fictional +1 555…) falls back
    /// to the main country of its calling code.
    pub fn country(&self) -> Option<Country> {
        let number = phonenumber::parse(None, format!("+{}", self.0)).ok()?;
        if let Some(region) = number.country().id() {
            return Country::parse(region.as_ref());
        }
        let code = number.country().code();
        let main = phonenumber::metadata::DATABASE
            .by_code(&code)?
            .into_iter()
            .next()?;
        Country::parse(main.id())
    }
}

/// A business-scoped user id: `EG.1234…`, an ISO country, a dot and up to
/// 128 alphanumerics (parent ids carry one more `ENT.` segment).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Bsuid(String);

impl Bsuid {
    /// The most characters after the country and its dot that we take.
    const MAX_REST: usize = 140;
    /// The longest BSUID we take, in characters.
    pub const MAX_LEN: usize = 3 + Self::MAX_REST;

    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let (country, rest) = raw.split_once('.')?;
        let valid_rest = !rest.is_empty()
            && rest.len() <= Self::MAX_REST
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.');
        (Country::parse(country).is_some() && valid_rest).then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn country(&self) -> Option<Country> {
        Country::parse(self.0.get(..2)?)
    }
}

/// An ISO 3166 alpha-2 country code, upper case.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Country([u8; 2]);

impl Country {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Some(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a webhook tells us about who wrote: at least one of the two ids.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRef {
    pub wa_id: Option<WaId>,
    pub bsuid: Option<Bsuid>,
}

/// A character of a phone number as people write it, spaces aside:
/// +44 20 7946-0958, (20) 100 123 4567.
fn in_written_number(c: char) -> bool {
    c.is_ascii_digit() || "+-().".contains(c)
}

/// A phone number as people write it (201001234567, +20 100 123-4567) or
/// a BSUID, as the id it is stored by; `None` when it is neither.
pub fn user_key(raw: &str) -> Option<String> {
    let written = |c: char| c == ' ' || in_written_number(c);
    let digits: String = if raw.trim().chars().all(written) {
        raw.chars().filter(char::is_ascii_digit).collect()
    } else {
        raw.to_owned()
    };
    WaId::parse(&digits)
        .map(|id| id.as_str().to_owned())
        .or_else(|| Bsuid::parse(raw.trim()).map(|id| id.as_str().to_owned()))
}

/// The text with whatever may name a person replaced by `…`: a word with
/// seven digits or more, a number written in groups ("+1 555 777 0001"),
/// a BSUID ("EG.1A2b3C"), a message id (`wamid.…` holds the phone). Meta's
/// error titles quote recipients, and they go to the log and to analysts;
/// its error codes have six digits at most.
pub fn without_ids(text: &str) -> String {
    let numeric = |word: &str| {
        word.chars().any(|c| c.is_ascii_digit()) && word.chars().all(in_written_number)
    };
    let digits = |word: &str| word.chars().filter(char::is_ascii_digit).count();
    let names_someone = |word: &str| {
        let core = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        digits(core) >= 7
            || Bsuid::parse(core).is_some()
            || core.to_ascii_lowercase().starts_with("wamid.")
    };
    let words: Vec<&str> = text.split_inclusive(char::is_whitespace).collect();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while at < words.len() {
        let run = words[at..]
            .iter()
            .take_while(|word| numeric(word.trim_end()))
            .count();
        let (first, last) = (words[at], words[at + run.max(1) - 1]);
        let hidden = if run > 0 {
            words[at..at + run].iter().map(|w| digits(w)).sum::<usize>() >= 7
        } else {
            names_someone(first.trim_end())
        };
        if hidden {
            // The brackets and punctuation around it stay.
            let before = first.len() - first.trim_start_matches(['(', '[', '"', '\'']).len();
            let tail = last.trim_end();
            let after = tail.trim_end_matches([')', ']', '"', '\'', '.', ',', ':', ';']);
            out.push_str(&first[..before]);
            out.push('…');
            out.push_str(&last[after.len()..]);
        } else {
            out.push_str(first);
        }
        at += run.max(1);
    }
    out
}

impl UserRef {
    pub fn new(wa_id: Option<WaId>, bsuid: Option<Bsuid>) -> Option<Self> {
        (wa_id.is_some() || bsuid.is_some()).then_some(Self { wa_id, bsuid })
    }

    /// The key the user is known by for life: the BSUID when known, else the phone.
    pub fn key(&self) -> &str {
        match (&self.bsuid, &self.wa_id) {
            (Some(bsuid), _) => bsuid.as_str(),
            (None, Some(wa_id)) => wa_id.as_str(),
            (None, None) => "",
        }
    }

    /// The BSUID prefix is Meta's own word on the country; the phone is the fallback.
    pub fn country(&self) -> Option<Country> {
        self.bsuid
            .as_ref()
            .and_then(Bsuid::country)
            .or_else(|| self.wa_id.as_ref().and_then(WaId::country))
    }
}

// Personal data never prints in clear, not even in a debug dump.
impl fmt::Debug for WaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WaId(<redacted>)")
    }
}

impl fmt::Debug for Bsuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bsuid(<redacted>)")
    }
}

impl fmt::Debug for UserRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserRef(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_without_plus_find_their_country() {
        let egypt = WaId::parse("201001234567").and_then(|id| id.country());
        assert_eq!(egypt.map(|c| c.to_string()).as_deref(), Some("EG"));
        let jamaica = WaId::parse("18765551234").and_then(|id| id.country());
        assert_eq!(jamaica.map(|c| c.to_string()).as_deref(), Some("JM"));
    }

    #[test]
    fn bsuid_prefix_is_the_country_and_garbage_is_refused() {
        let id = Bsuid::parse("EG.FAKEBSUID0000000002");
        assert_eq!(
            id.and_then(|b| b.country())
                .map(|c| c.to_string())
                .as_deref(),
            Some("EG")
        );
        assert!(Bsuid::parse("not a bsuid").is_none());
        assert!(Bsuid::parse("EGY.123").is_none());
        assert!(WaId::parse("12ab").is_none());
    }

    #[test]
    fn ids_quoted_in_a_text_are_left_out() {
        for (text, expected) in [
            (
                "Message undeliverable to 15557770001.",
                "Message undeliverable to ….",
            ),
            (
                "recipient (+1 555 777-0001) blocked",
                "recipient (…) blocked",
            ),
            ("user EG.FAILMEabcdefXYZ: no account", "user …: no account"),
            ("for wamid.HBgLMTY1MDM4Nzk0MzkVAgAR", "for …"),
            (
                "(#131047) Re-engagement message",
                "(#131047) Re-engagement message",
            ),
            (
                "Rate limit hit: 80 msgs in 2 s",
                "Rate limit hit: 80 msgs in 2 s",
            ),
        ] {
            assert_eq!(without_ids(text), expected, "{text}");
        }
    }

    #[test]
    fn the_bsuid_is_the_lifelong_key_when_known() {
        let both = UserRef::new(WaId::parse("15551234567"), Bsuid::parse("US.ABC")).unwrap();
        assert_eq!(both.key(), "US.ABC");
        let phone_only = UserRef::new(WaId::parse("15551234567"), None).unwrap();
        assert_eq!(phone_only.key(), "15551234567");
        assert!(format!("{both:?}").contains("redacted"));
    }
}
