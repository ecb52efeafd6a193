//! Moving notices forward in memory. A group's delivery reports and send
//! outcomes are applied, in that order, to the notices they name, exactly
//! as one statement each would; a store then loads the notices with one
//! statement and writes every changed one with another.

use crate::domain::notice::NoticeStatus;
use crate::store::log::StoredRow;
use crate::store::{AttemptOutcome, ErrorInfo, Rendered, StatusUpdate, StoreError, millis};
use jiff::Timestamp;
use std::collections::HashMap;

/// How one send attempt of a notice ended, to record.
pub(crate) struct Finish {
    pub notice_id: i64,
    pub outcome: AttemptOutcome,
    pub now: Timestamp,
}

/// The columns a store selects for [`NoticeProgress::from_row`], after `id`.
pub(crate) const PROGRESS_COLUMNS: &str = "status, due_at, lease_until, attempts, outbound_message_id, \
     sent_at, delivered_at, read_at, error_code, error_title";

/// A notice as delivery reports and send outcomes move it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NoticeProgress {
    pub id: i64,
    pub status: NoticeStatus,
    pub due_at: i64,
    pub lease_until: Option<i64>,
    pub attempts: i64,
    pub outbound_message_id: Option<String>,
    pub sent_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub read_at: Option<i64>,
    pub error_code: Option<i64>,
    pub error_title: Option<String>,
    /// The text sent, when this group rendered it; the stored one stays
    /// otherwise.
    pub rendered: Option<Rendered>,
}

impl NoticeProgress {
    /// A notice row as either store returns it, with `id` and [`PROGRESS_COLUMNS`].
    pub fn from_row(row: &impl StoredRow) -> Result<Self, StoreError> {
        let id = row.int("id")?;
        let status = row.text("status")?;
        Ok(Self {
            id,
            status: NoticeStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("notice {id}: status {status}")))?,
            due_at: row.int("due_at")?,
            lease_until: row.maybe_int("lease_until")?,
            attempts: row.int("attempts")?,
            outbound_message_id: row.maybe_text("outbound_message_id")?,
            sent_at: row.maybe_int("sent_at")?,
            delivered_at: row.maybe_int("delivered_at")?,
            read_at: row.maybe_int("read_at")?,
            error_code: row.maybe_int("error_code")?,
            error_title: row.maybe_text("error_title")?,
            rendered: None,
        })
    }

    fn set_error(&mut self, error: Option<&ErrorInfo>) {
        self.error_code = error.and_then(|e| e.code);
        self.error_title = error.map(|e| e.title.clone());
    }

    /// Records how a send attempt ended; the attempt no longer holds a lease.
    fn finish(&mut self, outcome: &AttemptOutcome, now: Timestamp) {
        let now = millis(now);
        self.lease_until = None;
        match outcome {
            AttemptOutcome::Sent {
                outbound_message_id,
                rendered,
            } => {
                // A delivery report may have overtaken the Graph API's
                // answer (it carries our id in biz_opaque_callback_data):
                // never move back.
                if self.status == NoticeStatus::Sending {
                    self.status = NoticeStatus::Sent;
                }
                self.outbound_message_id = Some(outbound_message_id.clone());
                self.sent_at = Some(now);
                self.set_error(None);
                self.rendered = Some(rendered.clone());
            }
            AttemptOutcome::DryRun { rendered } => {
                self.status = NoticeStatus::DryRun;
                self.sent_at = Some(now);
                self.rendered = Some(rendered.clone());
            }
            AttemptOutcome::Retry { at, error } => {
                self.status = NoticeStatus::Queued;
                self.due_at = millis(*at);
                self.set_error(error.as_ref());
            }
            AttemptOutcome::Failed { error, rendered } => {
                self.status = NoticeStatus::Failed;
                self.set_error(Some(error));
                if rendered.is_some() {
                    self.rendered.clone_from(rendered);
                }
            }
            // The user opted out before its turn: it is never sent.
            AttemptOutcome::Withdrawn { error } => {
                self.status = NoticeStatus::Failed;
                self.set_error(Some(error));
                self.attempts = (self.attempts - 1).max(0);
            }
            AttemptOutcome::Expired => self.status = NoticeStatus::Expired,
            // The claim called no one: it was no attempt.
            AttemptOutcome::ExpiredUnsent => {
                self.status = NoticeStatus::Expired;
                self.attempts = (self.attempts - 1).max(0);
            }
            // Not attempted: back in the queue as it was.
            AttemptOutcome::Requeue => {
                self.status = NoticeStatus::Queued;
                self.attempts = (self.attempts - 1).max(0);
            }
        }
    }

    fn report(&mut self, update: &StatusUpdate) -> bool {
        if !self.status.may_become(update.status) {
            // A `delivered` that arrives after `read` moves nothing back,
            // but its time is worth keeping.
            let late_delivery = update.status == NoticeStatus::Delivered
                && self.status == NoticeStatus::Read
                && self.delivered_at.is_none();
            if late_delivery {
                self.delivered_at = Some(millis(update.at));
            }
            return late_delivery;
        }
        let at = millis(update.at);
        self.status = update.status;
        if self.outbound_message_id.is_none() {
            self.outbound_message_id = Some(update.outbound_message_id.clone());
        }
        self.sent_at.get_or_insert(at);
        match update.status {
            NoticeStatus::Delivered => self.delivered_at = Some(at),
            NoticeStatus::Read => self.read_at = Some(at),
            _ => {}
        }
        if let Some(error) = &update.error {
            self.error_code = error.code;
            self.error_title = Some(error.title.clone());
        }
        true
    }
}

/// The changed notices that ended without reaching their user (`failed`,
/// `expired`): they do not count as the user's last notice, so the next
/// message is answered rather than coalesced.
pub(crate) fn ended_unreached(changed: &[NoticeProgress]) -> Vec<i64> {
    changed
        .iter()
        .filter(|n| matches!(n.status, NoticeStatus::Failed | NoticeStatus::Expired))
        .map(|n| n.id)
        .collect()
}

/// What a group's reports and outcomes name: Meta's message ids, and our
/// notice ids (echoed in reports, or the notice an outcome is for).
pub(crate) fn keys<'a>(
    reports: &[&'a [StatusUpdate]],
    finishes: &[&Finish],
) -> (Vec<&'a str>, Vec<i64>) {
    let updates = reports.iter().flat_map(|batch| batch.iter());
    let outbound = updates
        .clone()
        .map(|u| u.outbound_message_id.as_str())
        .collect();
    let ids = updates
        .filter_map(|u| u.notice_id)
        .chain(finishes.iter().map(|f| f.notice_id))
        .collect();
    (outbound, ids)
}

/// Applies the reports, in order, then the outcomes to the loaded notices.
/// Returns the notices that changed, and for each batch of reports how
/// many named no notice of ours.
pub(crate) fn apply(
    reports: &[&[StatusUpdate]],
    finishes: &[&Finish],
    loaded: Vec<NoticeProgress>,
) -> (Vec<NoticeProgress>, Vec<usize>) {
    let mut notices = loaded;
    let mut changed = vec![false; notices.len()];
    let mut by_outbound: HashMap<String, usize> = HashMap::new();
    let mut by_id: HashMap<i64, usize> = HashMap::new();
    for (slot, notice) in notices.iter().enumerate() {
        by_id.insert(notice.id, slot);
        if let Some(outbound) = &notice.outbound_message_id {
            by_outbound.insert(outbound.clone(), slot);
        }
    }
    let mut unknown = Vec::with_capacity(reports.len());
    for batch in reports {
        let mut strangers = 0;
        for update in *batch {
            // Match by Meta's id; before our record of it lands, by the
            // notice id echoed in biz_opaque_callback_data.
            let slot = by_outbound
                .get(&update.outbound_message_id)
                .copied()
                .or_else(|| {
                    update
                        .notice_id
                        .and_then(|id| by_id.get(&id).copied())
                        .filter(|&slot| notices[slot].outbound_message_id.is_none())
                });
            let Some(slot) = slot else {
                strangers += 1;
                continue;
            };
            if notices[slot].report(update) {
                by_outbound
                    .entry(update.outbound_message_id.clone())
                    .or_insert(slot);
                changed[slot] = true;
            }
        }
        unknown.push(strangers);
    }
    for finish in finishes {
        // A notice forgotten meanwhile has nothing left to record.
        if let Some(&slot) = by_id.get(&finish.notice_id) {
            notices[slot].finish(&finish.outcome, finish.now);
            changed[slot] = true;
        }
    }
    let changed = notices
        .into_iter()
        .zip(changed)
        .filter_map(|(notice, changed)| changed.then_some(notice))
        .collect();
    (changed, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::countdown::Phase;

    const NOW: i64 = 1_790_000_000_000;

    fn progress(id: i64, status: NoticeStatus) -> NoticeProgress {
        NoticeProgress {
            id,
            status,
            due_at: NOW,
            lease_until: Some(NOW + 120_000),
            attempts: 1,
            outbound_message_id: None,
            sent_at: None,
            delivered_at: None,
            read_at: None,
            error_code: None,
            error_title: None,
            rendered: None,
        }
    }

    fn report(
        outbound: &str,
        notice_id: Option<i64>,
        status: NoticeStatus,
        at: i64,
    ) -> StatusUpdate {
        StatusUpdate {
            outbound_message_id: outbound.into(),
            notice_id,
            status,
            at: Timestamp::from_millisecond(at).unwrap(),
            error: (status == NoticeStatus::Failed).then(|| ErrorInfo {
                code: Some(131047),
                title: "Re-engagement message".into(),
            }),
        }
    }

    fn finish(notice_id: i64, outcome: AttemptOutcome) -> Finish {
        Finish {
            notice_id,
            outcome,
            now: Timestamp::from_millisecond(NOW + 5).unwrap(),
        }
    }

    fn rendered() -> Rendered {
        Rendered {
            text: "ChatGPT is leaving WhatsApp".into(),
            phase: Phase::Countdown,
            days_left: 12,
            template_version: "v1".into(),
        }
    }

    #[test]
    fn reports_move_notices_forward_only_and_count_strangers_per_batch() {
        let first = [
            report("wamid.out", Some(1), NoticeStatus::Read, NOW + 2),
            report("wamid.out", None, NoticeStatus::Delivered, NOW + 1),
        ];
        let second = [report(
            "wamid.unknown",
            Some(99),
            NoticeStatus::Delivered,
            NOW,
        )];
        let (changed, unknown) = apply(
            &[&first, &second],
            &[],
            vec![progress(1, NoticeStatus::Sending)],
        );
        assert_eq!(unknown, [0, 1]);
        assert_eq!(changed.len(), 1);
        let notice = &changed[0];
        assert_eq!(
            notice.status,
            NoticeStatus::Read,
            "a late delivered never undoes read"
        );
        assert_eq!(notice.outbound_message_id.as_deref(), Some("wamid.out"));
        assert_eq!(notice.read_at, Some(NOW + 2));
        assert_eq!(notice.sent_at, Some(NOW + 2));
        assert_eq!(
            notice.lease_until,
            Some(NOW + 120_000),
            "a report leaves the lease alone"
        );
    }

    #[test]
    fn a_send_answer_after_its_report_keeps_the_report_status() {
        let reports = [report("wamid.out", Some(1), NoticeStatus::Delivered, NOW)];
        let sent = finish(
            1,
            AttemptOutcome::Sent {
                outbound_message_id: "wamid.out".into(),
                rendered: rendered(),
            },
        );
        let (changed, _) = apply(
            &[&reports],
            &[&sent],
            vec![progress(1, NoticeStatus::Sending)],
        );
        let notice = &changed[0];
        assert_eq!(notice.status, NoticeStatus::Delivered);
        assert_eq!(notice.lease_until, None);
        assert_eq!(notice.sent_at, Some(NOW + 5));
        assert_eq!(notice.rendered, Some(rendered()));
    }

    #[test]
    fn outcomes_set_what_each_attempt_ending_means() {
        let error = ErrorInfo {
            code: Some(131026),
            title: "Message undeliverable".into(),
        };
        let finishes = [
            finish(
                1,
                AttemptOutcome::Sent {
                    outbound_message_id: "wamid.1".into(),
                    rendered: rendered(),
                },
            ),
            finish(
                2,
                AttemptOutcome::Retry {
                    at: Timestamp::from_millisecond(NOW + 60_000).unwrap(),
                    error: Some(error.clone()),
                },
            ),
            finish(
                3,
                AttemptOutcome::Failed {
                    error: error.clone(),
                    rendered: None,
                },
            ),
            finish(4, AttemptOutcome::Requeue),
            finish(5, AttemptOutcome::Expired),
            finish(
                6,
                AttemptOutcome::DryRun {
                    rendered: rendered(),
                },
            ),
            finish(404, AttemptOutcome::Expired),
        ];
        let loaded = (1..=6)
            .map(|id| progress(id, NoticeStatus::Sending))
            .collect();
        let (changed, unknown) = apply(&[], &finishes.iter().collect::<Vec<_>>(), loaded);
        assert!(unknown.is_empty());
        let statuses: Vec<_> = changed.iter().map(|n| (n.id, n.status)).collect();
        assert_eq!(
            statuses,
            [
                (1, NoticeStatus::Sent),
                (2, NoticeStatus::Queued),
                (3, NoticeStatus::Failed),
                (4, NoticeStatus::Queued),
                (5, NoticeStatus::Expired),
                (6, NoticeStatus::DryRun),
            ],
            "a forgotten notice is skipped"
        );
        assert!(changed.iter().all(|n| n.lease_until.is_none()));
        assert_eq!(changed[0].outbound_message_id.as_deref(), Some("wamid.1"));
        assert_eq!(changed[1].due_at, NOW + 60_000);
        assert_eq!(changed[1].error_code, Some(131026));
        assert_eq!(changed[2].rendered, None, "the stored text stays");
        assert_eq!(changed[3].attempts, 0, "a requeue gives the attempt back");
        assert_eq!(changed[5].sent_at, Some(NOW + 5));
    }
}
