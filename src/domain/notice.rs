//! A notice's life: its kind and the statuses it moves through.

use std::fmt;

/// What a notice says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    Notice,
    StopConfirmation,
    StartConfirmation,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Notice => "notice",
            NoticeKind::StopConfirmation => "stop_confirmation",
            NoticeKind::StartConfirmation => "start_confirmation",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Notice,
            Self::StopConfirmation,
            Self::StartConfirmation,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == raw)
    }

    /// Whether it still goes out once the user has opted out: only the
    /// confirmation of the opt-out itself. A notice queued before the STOP
    /// (waiting out the pair spacing, a retry or a pause) never follows it.
    pub fn goes_to_opted_out(self) -> bool {
        self == Self::StopConfirmation
    }
}

/// Where a notice stands. It only moves forward: `queued` → `sending` →
/// `sent` → `delivered` → `read`, or out to `failed`, `expired` or `dry_run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoticeStatus {
    Queued,
    Sending,
    Sent,
    Delivered,
    Read,
    Failed,
    Expired,
    DryRun,
}

impl NoticeStatus {
    pub const ALL: [NoticeStatus; 8] = [
        Self::Queued,
        Self::Sending,
        Self::Sent,
        Self::Delivered,
        Self::Read,
        Self::Failed,
        Self::Expired,
        Self::DryRun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::DryRun => "dry_run",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// Whether a delivery report may move a notice from `self` to `next`.
    /// Reports arrive out of order (`read` before `delivered`) and twice;
    /// a late `delivered` must never undo a `read`, and a message that
    /// reached the phone cannot fail after it.
    pub fn may_become(self, next: NoticeStatus) -> bool {
        use NoticeStatus::*;
        match (self, next) {
            (Sending | Sent, Sent | Delivered | Read | Failed) => self != next,
            (Delivered, Read) => true,
            _ => false,
        }
    }
}

impl fmt::Display for NoticeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::NoticeStatus::*;

    #[test]
    fn statuses_never_move_backwards() {
        assert!(Sent.may_become(Delivered));
        assert!(Sent.may_become(Read));
        assert!(Delivered.may_become(Read));
        assert!(!Read.may_become(Delivered));
        assert!(!Read.may_become(Sent));
        assert!(!Delivered.may_become(Sent));
        assert!(!Failed.may_become(Delivered));
        assert!(!DryRun.may_become(Sent));
        assert!(!Sent.may_become(Sent));
        assert!(Sent.may_become(Failed));
        assert!(!Delivered.may_become(Failed), "delivered stays delivered");
        assert!(!Read.may_become(Failed));
    }
}
