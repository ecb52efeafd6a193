//! Numbers and dates the way a locale and the user's region write them,
//! from ICU4X's CLDR data: ar + EG gives ١١, fa gives ۱۱, hi groups 1,00,000.

use fluent_bundle::FluentValue;
use fluent_bundle::types::FluentType;
use icu_calendar::{Date, Gregorian};
use icu_datetime::FixedCalendarDateTimeFormatter;
use icu_datetime::fieldsets::YMD;
use icu_decimal::DecimalFormatter;
use icu_decimal::input::Decimal;
use icu_locale_core::Locale;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// The formatting locale for a message locale and a user's country: the
/// language of the one and the region of the other (`ar` + `EG` → `ar-EG`).
pub fn regional_locale(locale: &str, country: Option<&str>) -> Locale {
    let language = locale.split('-').next().unwrap_or(locale);
    let candidates = [
        country.map(|c| format!("{language}-{c}")),
        Some(locale.to_owned()),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(|tag| Locale::try_from_str(&tag).ok())
        .unwrap_or(Locale::UNKNOWN)
}

/// The formatters for a message locale and a user's country, built once
/// per pair: building them costs far more than using them.
pub fn regional_format(locale: &str, country: Option<&str>) -> Arc<RegionalFormat> {
    type Built = HashMap<(String, Option<String>), Arc<RegionalFormat>>;
    static BUILT: LazyLock<Mutex<Built>> = LazyLock::new(Mutex::default);
    let key = (locale.to_owned(), country.map(str::to_owned));
    if let Some(format) = BUILT.lock().ok().and_then(|built| built.get(&key).cloned()) {
        return format;
    }
    let format = Arc::new(RegionalFormat::new(&regional_locale(locale, country)));
    if let Ok(mut built) = BUILT.lock() {
        built.insert(key, Arc::clone(&format));
    }
    format
}

/// Formatters for one regional locale.
pub struct RegionalFormat {
    numbers: Option<DecimalFormatter>,
    dates: Option<FixedCalendarDateTimeFormatter<Gregorian, YMD>>,
}

impl RegionalFormat {
    pub fn new(locale: &Locale) -> Self {
        // Always the Gregorian calendar: the deadline is a civil date that
        // users compare with the official announcement (fa defaults to Persian).
        Self {
            numbers: DecimalFormatter::try_new(locale.into(), Default::default()).ok(),
            dates: FixedCalendarDateTimeFormatter::try_new(locale.into(), YMD::long()).ok(),
        }
    }

    /// A whole number with the region's digits and grouping, as a Fluent
    /// value that `PLURAL()` can still read the number from.
    pub fn number(&self, value: i64) -> FluentValue<'static> {
        let shown = match &self.numbers {
            Some(formatter) => formatter.format(&Decimal::from(value)).to_string(),
            None => value.to_string(),
        };
        FluentValue::Custom(Box::new(LocalizedNumber { value, shown }))
    }

    /// A long date: "June 30, 2027", "30 يونيو 2027", "30 juin 2027".
    pub fn date(&self, date: jiff::civil::Date) -> String {
        let icu_date =
            Date::try_new_gregorian(i32::from(date.year()), date.month() as u8, date.day() as u8);
        match (&self.dates, icu_date) {
            (Some(formatter), Ok(icu_date)) => formatter.format(&icu_date).to_string(),
            _ => date.to_string(),
        }
    }
}

/// A number already written out for the user, keeping its value for plurals.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalizedNumber {
    pub value: i64,
    shown: String,
}

impl FluentType for LocalizedNumber {
    fn duplicate(&self) -> Box<dyn FluentType + Send> {
        Box::new(self.clone())
    }

    fn as_string(&self, _: &intl_memoizer::IntlLangMemoizer) -> Cow<'static, str> {
        Cow::Owned(self.shown.clone())
    }

    fn as_string_threadsafe(
        &self,
        _: &intl_memoizer::concurrent::IntlLangMemoizer,
    ) -> Cow<'static, str> {
        Cow::Owned(self.shown.clone())
    }
}

/// The number behind a Fluent value, plain or localized.
pub fn number_of(value: &FluentValue<'_>) -> Option<f64> {
    match value {
        FluentValue::Number(n) => Some(n.value),
        FluentValue::Custom(custom) => custom
            .as_any()
            .downcast_ref::<LocalizedNumber>()
            .map(|n| n.value as f64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(locale: &str, country: Option<&str>, n: i64) -> String {
        let format = RegionalFormat::new(&regional_locale(locale, country));
        match format.number(n) {
            FluentValue::Custom(c) => c
                .as_any()
                .downcast_ref::<LocalizedNumber>()
                .unwrap()
                .shown
                .clone(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn digits_follow_the_users_region() {
        assert_eq!(shown("ar", Some("EG"), 123), "١٢٣");
        assert_eq!(shown("ar", Some("MA"), 123), "123");
        assert_eq!(shown("ar", None, 123), "123");
        assert_eq!(shown("fa", Some("IR"), 11), "۱۱");
        assert_eq!(shown("hi", Some("IN"), 1_234_567), "12,34,567");
    }

    #[test]
    fn dates_are_long_and_gregorian() {
        let day = jiff::civil::date(2027, 6, 30);
        assert_eq!(
            RegionalFormat::new(&regional_locale("en", Some("US"))).date(day),
            "June 30, 2027"
        );
        let persian = RegionalFormat::new(&regional_locale("fa", Some("IR"))).date(day);
        assert!(persian.contains("۲۰۲۷"), "{persian}");
    }
}
