//! Days and hours left, counted in the campaign's time zone.

use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use std::fmt;

/// Where the campaign stands at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// At least one whole local day left after today.
    Countdown,
    /// Today is the last day and the deadline is still ahead.
    FinalDay,
    /// The deadline has passed.
    Ended,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Countdown => "countdown",
            Phase::FinalDay => "final_day",
            Phase::Ended => "ended",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Phase::Countdown, Phase::FinalDay, Phase::Ended]
            .into_iter()
            .find(|phase| phase.as_str() == raw)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The deadline and the zone its days are counted in.
#[derive(Clone, Debug)]
pub struct Deadline {
    pub instant: Timestamp,
    pub time_zone: TimeZone,
}

/// The countdown at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Countdown {
    pub phase: Phase,
    /// Local days from today to the last day of service (0 on the last day, never negative).
    pub days_left: i64,
    /// Hours until the deadline, rounded up (0 once it passed).
    pub hours_left: i64,
}

impl Deadline {
    /// The last day of service is the local date of `deadline − 1 s`, so a
    /// deadline at midnight ends the day before rather than opening a new one.
    /// Once it has passed, `days_left` is 0 on the last day and negative
    /// after it: the days since.
    pub fn countdown_at(&self, now: Timestamp) -> Countdown {
        let last_day = (self.instant - SignedDuration::from_secs(1))
            .to_zoned_datetime(self.time_zone.clone())
            .date();
        let today = now.to_zoned_datetime(self.time_zone.clone()).date();
        let days_left = i64::from((last_day - today).get_days());
        if now >= self.instant {
            return Countdown {
                phase: Phase::Ended,
                days_left: days_left.min(0),
                hours_left: 0,
            };
        }
        let days_left = days_left.max(0);
        let remaining = self.instant.duration_since(now);
        let hours_left =
            (remaining.as_secs() + i64::from(remaining.subsec_nanos() > 0) + 3599) / 3600;
        let phase = if days_left >= 1 {
            Phase::Countdown
        } else {
            Phase::FinalDay
        };
        Countdown {
            phase,
            days_left,
            hours_left,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadline(at: &str, zone: &str) -> Deadline {
        Deadline {
            instant: at.parse().unwrap(),
            time_zone: TimeZone::get(zone).unwrap(),
        }
    }

    fn at(raw: &str) -> Timestamp {
        raw.parse().unwrap()
    }

    #[test]
    fn days_are_counted_to_the_last_local_day() {
        let d = deadline("2027-06-30T23:59:59Z", "UTC");
        let c = d.countdown_at(at("2027-06-27T08:00:00Z"));
        assert_eq!((c.phase, c.days_left), (Phase::Countdown, 3));
        let c = d.countdown_at(at("2027-06-29T23:00:00Z"));
        assert_eq!((c.phase, c.days_left), (Phase::Countdown, 1));
    }

    #[test]
    fn the_last_day_counts_hours_rounded_up() {
        let d = deadline("2027-06-30T23:59:59Z", "UTC");
        let c = d.countdown_at(at("2027-06-30T20:30:00Z"));
        assert_eq!(
            c,
            Countdown {
                phase: Phase::FinalDay,
                days_left: 0,
                hours_left: 4
            }
        );
    }

    #[test]
    fn a_midnight_deadline_ends_the_day_before() {
        let d = deadline("2027-07-01T00:00:00Z", "UTC");
        let c = d.countdown_at(at("2027-06-30T10:00:00Z"));
        assert_eq!((c.phase, c.days_left), (Phase::FinalDay, 0));
    }

    #[test]
    fn days_follow_the_campaign_time_zone() {
        // 22:00 UTC on the 28th is already the 29th in Cairo (UTC+3 in summer).
        let d = deadline("2027-06-30T20:59:59Z", "Africa/Cairo");
        let c = d.countdown_at(at("2027-06-28T22:00:00Z"));
        assert_eq!((c.phase, c.days_left), (Phase::Countdown, 1));
    }

    #[test]
    fn after_the_deadline_it_has_ended_and_counts_the_days_since() {
        let d = deadline("2027-06-30T23:59:59Z", "UTC");
        assert_eq!(
            d.countdown_at(at("2027-06-30T23:59:59Z")).phase,
            Phase::Ended
        );
        let later = d.countdown_at(at("2027-08-01T00:00:00Z"));
        assert_eq!((later.phase, later.days_left), (Phase::Ended, -32));
        let midnight = deadline("2027-07-01T00:00:00Z", "UTC");
        let just_after = midnight.countdown_at(at("2027-07-01T00:00:01Z"));
        assert_eq!((just_after.phase, just_after.days_left), (Phase::Ended, -1));
    }
}
