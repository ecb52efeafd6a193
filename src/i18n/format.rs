//! Dates as a locale writes them.

use jiff::civil::Date;

const ENGLISH_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The deadline's date for `$deadline`. English spells the month; other
/// locales get the unambiguous ISO form until they have their own.
pub fn long_date(locale: &str, date: Date) -> String {
    let month = usize::try_from(date.month() - 1).unwrap_or(0);
    if locale.starts_with("en") {
        format!("{} {}, {}", ENGLISH_MONTHS[month], date.day(), date.year())
    } else {
        date.to_string()
    }
}
