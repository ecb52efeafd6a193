//! The sender: claims due notices, renders them at send time, posts them to
//! the Graph API within the rate limit, and records what happened.

use crate::campaign::Campaign;
use crate::domain::decision::REPLY_WINDOW;
use crate::graph_api::{ErrorAction, GraphClient, GraphError, Recipient};
use crate::i18n::LiveCatalog;
use crate::metrics::Metrics;
use crate::store::{
    ALL_NUMBERS, AttemptOutcome, DueNotice, ErrorInfo, HeldNotice, PausedNumber, Rendered, Store,
};
use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

/// A claim lasts far longer than one HTTP call (15 s at most), so only a
/// box that died mid-send lets a notice go back to the queue.
pub const LEASE: SignedDuration = SignedDuration::from_mins(2);
/// A held notice whose turn comes later than this after its claim is not
/// sent but given back: the lease must outlast its call (15 s at most) and
/// the record of its outcome, or another claim could send it again.
const LEASE_MARGIN: SignedDuration = SignedDuration::from_secs(30);
/// A paused number is probed this often.
pub const PROBE_INTERVAL: SignedDuration = SignedDuration::from_mins(5);
/// After a 131048 the number sends at half its rate, on every box, this long.
const SLOWDOWN: SignedDuration = SignedDuration::from_mins(15);
/// The error title of a notice that was still queued when its user sent STOP.
pub const OPTED_OUT_BEFORE_SENDING: &str = "the user opted out before it was sent";
const MAX_BACKOFF: SignedDuration = SignedDuration::from_mins(10);
const BATCH: u32 = 64;
/// Notices one box holds at once, waiting for their send slot or being
/// sent: enough for a quarter of a second at 1,000 a second, so that the
/// next claim is made long before the slots run out.
pub const MAX_HELD: usize = 256;
/// The running sender claims again once this many places are free.
const CLAIM_AT: usize = 32;
/// The window `messages_per_second` holds in.
const SEND_WINDOW: Duration = Duration::from_secs(1);
/// A notice held longer than this since its claim asks the store, just
/// before its call, whether its number was paused or its user opted out
/// meanwhile: at a low `messages_per_second` a claim holds a minute of
/// sends. At a high one, notices go within a quarter of a second of
/// their claim, and the pauses this box made itself stop them.
const RECHECK_AFTER: SignedDuration = SignedDuration::from_secs(1);

/// Live sending, or dry-run.
#[derive(Clone, Debug)]
pub enum Delivery {
    /// Everything but the HTTP call.
    DryRun,
    /// Real sends; with test recipients, only to them (others are dry-run).
    Live {
        client: GraphClient,
        test_recipients: Vec<String>,
    },
}

/// How fast the sender goes, from the `[whatsapp]` settings.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// Per business number, shared by every box.
    pub messages_per_second: u32,
    /// Graph API calls one box keeps open at once.
    pub sends_in_flight: u32,
    /// The least time between two notices to one user.
    pub pair_spacing: SignedDuration,
}

/// The notice sender. One per box; many boxes share the work through leases.
pub struct Outbox {
    store: Arc<dyn Store>,
    delivery: Delivery,
    catalog: Arc<LiveCatalog>,
    campaign: Arc<Campaign>,
    /// The spacing of sends to one number: `messages_per_second`, shared
    /// by every box through the store's send budget.
    interval: SignedDuration,
    /// Graph API calls open at once, each until its outcome is recorded:
    /// what a crash between the answer and the record can send twice.
    calls: Semaphore,
    /// The least time between two notices to one user.
    pair_spacing: SignedDuration,
    /// Sends per number in any one-second window, at most.
    per_window: usize,
    /// This box's latest sends to each number.
    recent_sends: Mutex<HashMap<String, RecentSends>>,
    /// The numbers known to be paused (or `*`, all of them), as of the
    /// latest claim and this box's own pauses since.
    paused: Mutex<HashSet<String>>,
    /// Rings when [`Self::paused`] is noted with a number in it, for the
    /// notices waiting for their slot.
    pauses_noted: Notify,
    /// Turns true when the sender stops: notices still waiting for their
    /// send slot go back to the queue at once, for another box to send.
    stopping: watch::Sender<bool>,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
}

impl Outbox {
    pub fn new(
        store: Arc<dyn Store>,
        delivery: Delivery,
        catalog: Arc<LiveCatalog>,
        campaign: Arc<Campaign>,
        pace: Pace,
        metrics: Arc<Metrics>,
    ) -> Self {
        let rate = f64::from(pace.messages_per_second.max(1));
        Self {
            store,
            delivery,
            catalog,
            campaign,
            interval: SignedDuration::from_secs_f64(1.0 / rate),
            calls: Semaphore::new(usize::try_from(pace.sends_in_flight.max(1)).unwrap_or(1)),
            pair_spacing: pace.pair_spacing,
            per_window: usize::try_from(pace.messages_per_second.max(1)).unwrap_or(1),
            recent_sends: Mutex::new(HashMap::new()),
            paused: Mutex::new(HashSet::new()),
            pauses_noted: Notify::new(),
            stopping: watch::Sender::new(false),
            wake: Arc::new(Notify::new()),
            metrics,
        }
    }

    /// Rings when new notices are queued, so the sender need not poll fast.
    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// One round: probe paused numbers, claim due notices and attempt each,
    /// waiting for all of them. Returns how many notices were attempted.
    pub async fn step(&self, now: Timestamp) -> anyhow::Result<usize> {
        let due = self.claim(now, BATCH).await?;
        let count = due.len();
        futures_util::stream::iter(due)
            .for_each_concurrent(MAX_HELD, |(notice, slot)| {
                self.attempt_logged(notice, slot, now)
            })
            .await;
        Ok(count)
    }

    /// Claims while there is work, keeping up to [`MAX_HELD`] notices
    /// going so that the send slots follow each other without gaps; then
    /// waits for a wake-up or a short tick (retries fall due by time).
    /// Once `stop` turns true it claims no more and waits for the notices
    /// it holds to be sent and recorded.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let places = Arc::new(Semaphore::new(MAX_HELD));
        let mut attempts = JoinSet::new();
        while !*stop.borrow() {
            while attempts.try_join_next().is_some() {}
            let free = places.available_permits();
            if free >= CLAIM_AT.min(MAX_HELD) || attempts.is_empty() {
                let now = Timestamp::now();
                let limit = u32::try_from(free.min(claim_cap(self.per_window))).unwrap_or(BATCH);
                match self.claim(now, limit).await {
                    Ok(due) if !due.is_empty() => {
                        for (notice, slot) in due {
                            // Never waits: no more were claimed than were free.
                            let Ok(place) = Arc::clone(&places).acquire_owned().await else {
                                break;
                            };
                            let sender = Arc::clone(&self);
                            attempts.spawn(async move {
                                sender.attempt_logged(notice, slot, now).await;
                                drop(place);
                            });
                        }
                        continue;
                    }
                    Ok(_) => {}
                    Err(error) => tracing::error!(error = %error, "sender round failed"),
                }
            }
            tokio::select! {
                () = self.wake.notified() => {}
                _ = stop.changed() => {}
                Some(_) = attempts.join_next() => {}
                () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
            }
        }
        self.stopping.send_replace(true);
        while attempts.join_next().await.is_some() {}
    }

    /// Probes paused numbers, leases due notices and gives every live send
    /// its slot in its number's budget.
    async fn claim(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> anyhow::Result<Vec<(DueNotice, Option<Timestamp>)>> {
        self.probe_paused_numbers(now).await?;
        let due = self
            .store
            .claim_due_notices(now, LEASE, self.pair_spacing, limit)
            .await?;
        let due: Vec<(DueNotice, bool)> = due
            .into_iter()
            .map(|notice| {
                let live = self.sends_live(&notice, now);
                (notice, live)
            })
            .collect();
        let mut live: HashMap<String, u32> = HashMap::new();
        for (notice, _) in due.iter().filter(|(_, live)| *live) {
            *live.entry(notice.phone_number_id.clone()).or_default() += 1;
        }
        let mut next_slot = HashMap::new();
        for (number, count) in live {
            // Slots are kept in real time, whatever `now` the round runs at.
            let slots = self
                .store
                .reserve_sends(&number, count, self.interval, Timestamp::now())
                .await?;
            next_slot.insert(number, (slots.first, slots.interval));
        }
        Ok(due
            .into_iter()
            .map(|(notice, live)| {
                let slot = next_slot
                    .get_mut(&notice.phone_number_id)
                    .filter(|_| live)
                    .map(|(next, interval)| {
                        let slot = *next;
                        *next = slot + *interval;
                        slot
                    });
                (notice, slot)
            })
            .collect())
    }

    /// Waits until one more send to the number keeps this box at or under
    /// `messages_per_second` in every one-second window at the Graph API,
    /// however late the sends before it ran or arrived, and counts it
    /// until the ticket is dropped at the call's end.
    async fn keep_to_window(&self, phone_number_id: &str) -> WindowTicket<'_> {
        loop {
            let wait = {
                let Ok(mut recent) = self.recent_sends.lock() else {
                    break;
                };
                let sends = recent.entry(phone_number_id.to_owned()).or_default();
                match sends.start(Instant::now(), self.per_window) {
                    Ok(()) => break,
                    Err(wait) => wait,
                }
            };
            tokio::time::sleep(wait).await;
        }
        WindowTicket {
            recent_sends: &self.recent_sends,
            phone_number_id: phone_number_id.to_owned(),
        }
    }

    /// Whether the attempt will call the Graph API.
    fn sends_live(&self, notice: &DueNotice, now: Timestamp) -> bool {
        now < notice.last_message_at + REPLY_WINDOW
            && !notice.overtaken_by_opt_out()
            && self.live_recipient(notice).is_some()
    }

    async fn attempt_logged(&self, notice: DueNotice, slot: Option<Timestamp>, now: Timestamp) {
        let id = notice.id;
        if let Err(error) = self.attempt(notice, slot, now).await {
            tracing::error!(notice_id = id, error = %error, "could not record a send attempt; the lease will expire and it is retried");
        }
    }

    async fn attempt(
        &self,
        notice: DueNotice,
        slot: Option<Timestamp>,
        now: Timestamp,
    ) -> anyhow::Result<()> {
        if notice.overtaken_by_opt_out() {
            return self.withdraw(&notice, now).await;
        }
        let window_closes = notice.last_message_at + REPLY_WINDOW;
        if now >= window_closes {
            tracing::info!(notice_id = notice.id, user = %notice.pseudonym, "24-hour window closed before sending: expired");
            return self
                .finish(&notice, AttemptOutcome::ExpiredUnsent, now)
                .await;
        }
        let (text, rendered) = match self.render(&notice, now) {
            Ok(rendered) => rendered,
            Err(error) => {
                tracing::error!(notice_id = notice.id, error = %error, "notice cannot be rendered; retrying later");
                let retry = AttemptOutcome::Retry {
                    at: now + SignedDuration::from_mins(1),
                    error: None,
                };
                return self.finish(&notice, retry, now).await;
            }
        };
        let Some((client, recipient)) = self.live_recipient(&notice) else {
            tracing::info!(notice_id = notice.id, user = %notice.pseudonym, locale = %notice.locale, "dry-run: notice not sent");
            return self
                .finish(&notice, AttemptOutcome::DryRun { rendered }, now)
                .await;
        };
        if let Some(slot) = slot
            && !self.wait_for_slot(&notice.phone_number_id, slot).await
        {
            return self.finish(&notice, AttemptOutcome::Requeue, now).await;
        }
        // Held until the outcome is recorded. Never closed, so never Err.
        let _call = self.calls.acquire().await.ok();
        let ticket = self.keep_to_window(&notice.phone_number_id).await;
        if *self.stopping.borrow() {
            // It waited for a call to end: a stopping sender starts none.
            return self.finish(&notice, AttemptOutcome::Requeue, now).await;
        }
        if Timestamp::now() > now + LEASE - LEASE_MARGIN {
            // Boxes sharing the number's budget pushed this slot too far.
            tracing::warn!(
                notice_id = notice.id,
                "the lease would run out before the call ends: back to the queue, unsent"
            );
            return self.finish(&notice, AttemptOutcome::Requeue, now).await;
        }
        let held = self.held_since_claim(&notice, now).await?;
        if held.paused {
            tracing::info!(
                notice_id = notice.id,
                "sending was paused after its claim: back to the queue, unsent"
            );
            return self.finish(&notice, AttemptOutcome::Requeue, now).await;
        }
        if held.opted_out && !notice.kind.goes_to_opted_out() {
            return self.withdraw(&notice, now).await;
        }
        let started = std::time::Instant::now();
        let result = client
            .send_text(
                &notice.phone_number_id,
                &recipient,
                &text,
                &notice.id.to_string(),
            )
            .await;
        drop(ticket);
        self.metrics.send_latency(started.elapsed().as_secs_f64());
        let outcome = match result {
            Ok(outbound_message_id) => {
                tracing::info!(notice_id = notice.id, user = %notice.pseudonym, "notice sent");
                AttemptOutcome::Sent {
                    outbound_message_id,
                    rendered,
                }
            }
            Err(error) => {
                let answered = Timestamp::now().max(now);
                let outcome = self
                    .after_error(&notice, &error, rendered, answered, window_closes)
                    .await?;
                log_failure(&notice, &error, &outcome);
                outcome
            }
        };
        // Recorded at the answer: `sent_at` is when the Graph API took it.
        self.finish(&notice, outcome, Timestamp::now().max(now))
            .await
    }

    /// Fails a notice whose user opted out before it was sent.
    async fn withdraw(&self, notice: &DueNotice, now: Timestamp) -> anyhow::Result<()> {
        tracing::info!(notice_id = notice.id, user = %notice.pseudonym, "the user opted out before it was sent: failed, unsent");
        let withdrawn = AttemptOutcome::Withdrawn {
            error: ErrorInfo {
                code: None,
                title: OPTED_OUT_BEFORE_SENDING.to_owned(),
            },
        };
        self.finish(notice, withdrawn, now).await
    }

    /// Waits for a notice's send slot. False when it must go back to the
    /// queue first: the sender is stopping, or its number was paused
    /// meanwhile (as this box learns it).
    async fn wait_for_slot(&self, phone_number_id: &str, slot: Timestamp) -> bool {
        let wait = slot.duration_since(Timestamp::now());
        if !wait.is_positive() {
            return true;
        }
        let until = tokio::time::Instant::now() + wait.unsigned_abs();
        let mut stopping = self.stopping.subscribe();
        loop {
            let paused = self.pauses_noted.notified();
            tokio::select! {
                () = tokio::time::sleep_until(until) => return true,
                _ = stopping.wait_for(|stopping| *stopping) => return false,
                () = paused => {
                    if self.paused_here(phone_number_id) {
                        return false;
                    }
                }
            }
        }
    }

    /// Whether this box knows the number, or all sending, to be paused.
    fn paused_here(&self, phone_number_id: &str) -> bool {
        self.paused
            .lock()
            .is_ok_and(|paused| paused.contains(ALL_NUMBERS) || paused.contains(phone_number_id))
    }

    /// Whether the notice's number was paused, or its user opted out,
    /// since its claim at `claimed`.
    async fn held_since_claim(
        &self,
        notice: &DueNotice,
        claimed: Timestamp,
    ) -> anyhow::Result<HeldNotice> {
        let paused_here = self.paused_here(&notice.phone_number_id);
        if Timestamp::now().duration_since(claimed) < RECHECK_AFTER {
            return Ok(HeldNotice {
                paused: paused_here,
                opted_out: false,
            });
        }
        // A notice gone meanwhile belongs to a person forgotten: nothing
        // may reach them.
        let held = self
            .store
            .held_notice(notice.id)
            .await?
            .unwrap_or(HeldNotice {
                paused: false,
                opted_out: true,
            });
        Ok(HeldNotice {
            paused: held.paused || paused_here,
            ..held
        })
    }

    fn note_paused(&self, numbers: impl IntoIterator<Item = String>, only: bool) {
        let any = self.paused.lock().is_ok_and(|mut paused| {
            if only {
                paused.clear();
            }
            paused.extend(numbers);
            !paused.is_empty()
        });
        if any {
            self.pauses_noted.notify_waiters();
        }
    }

    async fn finish(
        &self,
        notice: &DueNotice,
        outcome: AttemptOutcome,
        now: Timestamp,
    ) -> anyhow::Result<()> {
        self.metrics.send(match &outcome {
            AttemptOutcome::Sent { .. } => "sent",
            AttemptOutcome::DryRun { .. } => "dry_run",
            AttemptOutcome::Retry { .. } => "retry",
            AttemptOutcome::Failed { .. } | AttemptOutcome::Withdrawn { .. } => "failed",
            AttemptOutcome::Expired | AttemptOutcome::ExpiredUnsent => "expired",
            AttemptOutcome::Requeue => "paused",
        });
        Ok(self.store.finish_attempt(notice.id, &outcome, now).await?)
    }

    /// The text to send, and the notice as stored (without the account
    /// link's token).
    fn render(&self, notice: &DueNotice, now: Timestamp) -> anyhow::Result<(String, Rendered)> {
        let user_key = notice
            .bsuid
            .as_deref()
            .or(notice.wa_id.as_deref())
            .unwrap_or_default();
        let mut args = self
            .campaign
            .notice_args(now, notice.id, &notice.phone_number_id, user_key);
        args.country = notice.country.clone();
        let catalog = self.catalog.current();
        let text = catalog
            .localizer
            .render(&notice.locale, notice.kind, &args)?;
        let rendered = Rendered {
            text: self.campaign.without_link_token(&text, &args),
            phase: args.countdown.phase,
            days_left: args.countdown.days_left,
            template_version: catalog.localizer.version().to_owned(),
        };
        Ok((text, rendered))
    }

    /// The client and address for a live send, or `None` for dry-run.
    fn live_recipient(&self, notice: &DueNotice) -> Option<(&GraphClient, Recipient)> {
        let Delivery::Live {
            client,
            test_recipients,
        } = &self.delivery
        else {
            return None;
        };
        let canary = test_recipients.is_empty()
            || [&notice.wa_id, &notice.bsuid]
                .into_iter()
                .flatten()
                .any(|id| test_recipients.contains(id));
        let recipient = match (&notice.wa_id, &notice.bsuid) {
            (Some(phone), _) => Recipient::Phone(phone.clone()),
            (None, Some(bsuid)) => Recipient::Bsuid(bsuid.clone()),
            (None, None) => return None,
        };
        canary.then_some((client, recipient))
    }

    /// What a failed send leads to.
    async fn after_error(
        &self,
        notice: &DueNotice,
        error: &GraphError,
        rendered: Rendered,
        now: Timestamp,
        window_closes: Timestamp,
    ) -> anyhow::Result<AttemptOutcome> {
        let info = ErrorInfo {
            code: error.code(),
            title: error.title(),
        };
        let retry_after = |delay: SignedDuration| {
            let at = now + delay;
            if at >= window_closes {
                AttemptOutcome::Expired
            } else {
                AttemptOutcome::Retry {
                    at,
                    error: Some(info.clone()),
                }
            }
        };
        Ok(match error.action() {
            ErrorAction::Retry => retry_after(backoff(notice.attempts)),
            ErrorAction::DelayUser => {
                let exponent = u32::try_from(notice.attempts.clamp(1, 6)).unwrap_or(6);
                retry_after(SignedDuration::from_secs(4_i64.pow(exponent)))
            }
            // Every send goes to the phone when it is known (`live_recipient`),
            // so after 131062 there is nothing else to try.
            ErrorAction::Fail | ErrorAction::RetryWithPhone => AttemptOutcome::Failed {
                error: info,
                rendered: Some(rendered),
            },
            ErrorAction::FailAndSlowDown => {
                tracing::warn!(phone_number_id = %notice.phone_number_id, until = %(now + SLOWDOWN), "spam rate limit: the number sends at half its rate");
                self.store
                    .slow_down(&notice.phone_number_id, now + SLOWDOWN)
                    .await?;
                AttemptOutcome::Failed {
                    error: info,
                    rendered: Some(rendered),
                }
            }
            ErrorAction::PauseNumber => {
                tracing::error!(phone_number_id = %notice.phone_number_id, code = ?info.code, "sending paused for this number");
                self.note_paused([notice.phone_number_id.clone()], false);
                self.store
                    .pause_number(&PausedNumber {
                        phone_number_id: notice.phone_number_id.clone(),
                        error_code: info.code,
                        reason: info.title.clone(),
                        paused_at: now,
                        next_probe_at: now + PROBE_INTERVAL,
                    })
                    .await?;
                // The call was made: it counts, and the log shows why the
                // notice waits. It goes as soon as the number is resumed.
                AttemptOutcome::Retry {
                    at: now,
                    error: Some(info),
                }
            }
        })
    }

    /// A paused number resumes as soon as a harmless call succeeds again.
    /// Also notes which numbers are paused, for the notices it holds.
    async fn probe_paused_numbers(&self, now: Timestamp) -> anyhow::Result<()> {
        let paused_numbers = self.store.paused_numbers().await?;
        self.note_paused(
            paused_numbers.iter().map(|p| p.phone_number_id.clone()),
            true,
        );
        let Delivery::Live { client, .. } = &self.delivery else {
            return Ok(());
        };
        for mut paused in paused_numbers {
            if paused.next_probe_at > now || paused.phone_number_id == ALL_NUMBERS {
                continue;
            }
            match client.probe(&paused.phone_number_id).await {
                Ok(()) => {
                    tracing::info!(phone_number_id = %paused.phone_number_id, "probe succeeded: sending resumed");
                    self.store
                        .resume_numbers(Some(&paused.phone_number_id))
                        .await?;
                    if let Ok(mut known) = self.paused.lock() {
                        known.remove(&paused.phone_number_id);
                    }
                }
                Err(error) => {
                    tracing::warn!(phone_number_id = %paused.phone_number_id, error = %error, "probe failed: still paused");
                    paused.next_probe_at = now + PROBE_INTERVAL;
                    self.store.pause_number(&paused).await?;
                }
            }
        }
        Ok(())
    }
}

/// Exponential backoff with full jitter: 2 s, 4 s, 8 s … capped at 10 min.
/// One line per failed send, saying what comes of it.
fn log_failure(notice: &DueNotice, error: &GraphError, outcome: &AttemptOutcome) {
    let (id, user, attempt) = (notice.id, &notice.pseudonym, notice.attempts);
    match outcome {
        AttemptOutcome::Retry { at, .. } => {
            tracing::warn!(notice_id = id, user = %user, attempt, error = %error, retry_at = %at, "send failed; retrying");
        }
        AttemptOutcome::Expired => {
            tracing::warn!(notice_id = id, user = %user, attempt, error = %error, "send failed; the 24-hour window closes before a retry: expired");
        }
        AttemptOutcome::Requeue => {
            tracing::warn!(notice_id = id, user = %user, attempt, error = %error, "send failed; the number is paused and the notice waits");
        }
        _ => {
            tracing::warn!(notice_id = id, user = %user, attempt, error = %error, "send failed for good: failed");
        }
    }
}

/// One number's sends in one box, for the one-second window: a request
/// reaches the Graph API at some instant between its start and its
/// answer, so a send counts from its start until a second after its
/// answer. When no more than `messages_per_second` count at each start,
/// no second at the Graph API sees more, whatever the delays in between.
#[derive(Default)]
struct RecentSends {
    in_flight: usize,
    /// When the latest calls were answered, oldest first.
    answered: VecDeque<Instant>,
}

impl RecentSends {
    /// Counts one more send starting at `now`, or tells how long to wait.
    fn start(&mut self, now: Instant, per_window: usize) -> Result<(), Duration> {
        while self
            .answered
            .front()
            .is_some_and(|at| now.duration_since(*at) >= SEND_WINDOW)
        {
            self.answered.pop_front();
        }
        if self.in_flight + self.answered.len() < per_window {
            self.in_flight += 1;
            return Ok(());
        }
        // With every counted send in flight, the first answer frees one.
        Err(self
            .answered
            .front()
            .map_or(Duration::from_millis(5), |at| *at + SEND_WINDOW - now))
    }

    fn answered(&mut self, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.answered.push_back(now);
    }
}

/// A send counted in its number's window; dropped when its call ends.
struct WindowTicket<'a> {
    recent_sends: &'a Mutex<HashMap<String, RecentSends>>,
    phone_number_id: String,
}

impl Drop for WindowTicket<'_> {
    fn drop(&mut self) {
        if let Ok(mut recent) = self.recent_sends.lock()
            && let Some(sends) = recent.get_mut(&self.phone_number_id)
        {
            sends.answered(Instant::now());
        }
    }
}

/// The most notices one claim takes: what a number's budget sends in half
/// a lease, so that at a low `messages_per_second` a backlog is not held
/// past its lease while it waits for its slots.
fn claim_cap(messages_per_second: usize) -> usize {
    let half_lease = usize::try_from(LEASE.as_secs() / 2).unwrap_or(1);
    messages_per_second.saturating_mul(half_lease).max(1)
}

fn backoff(attempts: i64) -> SignedDuration {
    let exponent = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    let ceiling = SignedDuration::from_secs(2_i64.saturating_mul(2_i64.saturating_pow(exponent)))
        .min(MAX_BACKOFF);
    let jitter = rand::random_range(0.5..=1.0);
    SignedDuration::from_secs_f64(ceiling.as_secs_f64() * jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_sent_within_half_its_lease_at_the_numbers_rate() {
        for per_second in [1, 2, 80, 1_000] {
            let cap = claim_cap(per_second);
            let last_slot = SignedDuration::from_secs(i64::try_from(cap / per_second).unwrap());
            assert!(last_slot <= LEASE / 2, "{per_second}/s: {cap}");
            assert!(
                cap >= MAX_HELD.min(per_second * 60),
                "{per_second}/s: {cap}"
            );
        }
    }

    /// The most instants in any window [t, t + 1 s) of sorted `times`.
    fn most_in_a_second(times: &[Instant]) -> usize {
        let mut first = 0;
        let mut most = 0;
        for (last, at) in times.iter().enumerate() {
            while at.duration_since(times[first]) >= SEND_WINDOW {
                first += 1;
            }
            most = most.max(last + 1 - first);
        }
        most
    }

    #[test]
    fn no_second_at_the_graph_api_sees_more_than_the_limit_however_calls_are_delayed() {
        let per_window = 50;
        let epoch = Instant::now();
        let mut sends = RecentSends::default();
        // (answer, start) of the calls in flight; each call takes 0 to 90 ms.
        let mut in_flight: Vec<(Instant, Instant)> = Vec::new();
        let (mut starts, mut answers) = (Vec::new(), Vec::new());
        let mut now = epoch;
        for call in 0..400_u64 {
            loop {
                in_flight.sort();
                while in_flight.first().is_some_and(|(answer, _)| *answer <= now) {
                    let (answer, start) = in_flight.remove(0);
                    sends.answered(answer);
                    starts.push(start);
                    answers.push(answer);
                }
                match sends.start(now, per_window) {
                    Ok(()) => break,
                    Err(wait) => now += wait.min(Duration::from_millis(1)),
                }
            }
            let latency = Duration::from_millis(call * 37 % 91);
            in_flight.push((now + latency, now));
        }
        starts.sort();
        answers.sort();
        // A request reaches the Graph API between its start and its answer:
        // at either end, and so anywhere between, no second holds more.
        assert_eq!(most_in_a_second(&starts), per_window);
        assert!(most_in_a_second(&answers) <= per_window);
        let seconds = (*answers.last().unwrap() - epoch).as_secs_f64();
        assert!(seconds < 400.0 / 50.0 * 1.1, "{seconds} s for 8 s of sends");
    }
}
