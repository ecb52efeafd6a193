//! Taking a webhook in: quarantine what we cannot read, decide and store the
//! messages, move notices forward on delivery reports, wake the sender.

use crate::campaign::Campaign;
use crate::domain::decision::{Decision, ReplyPolicy};
use crate::domain::message::InboundMessage;
use crate::i18n::LiveCatalog;
use crate::metrics::Metrics;
use crate::store::{IngestContext, Ingested, StatusUpdate, Store, StoreError};
use jiff::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Notify;

/// What one POST carried.
#[derive(Debug, Default)]
pub struct WebhookBatch {
    pub messages: Vec<InboundMessage>,
    pub statuses: Vec<StatusUpdate>,
    /// Parts we could not understand: the whole body is quarantined for them.
    pub problems: Vec<String>,
    /// Statuses of kinds that move no notice (`deleted`, `warning`…).
    pub other_statuses: usize,
}

/// Counters shown on /healthz and /metrics.
#[derive(Debug, Default)]
pub struct IntakeCounters {
    pub unknown_statuses: AtomicU64,
    pub other_statuses: AtomicU64,
    pub duplicates: AtomicU64,
    pub quarantined: AtomicU64,
}

/// The webhook's one call into the service.
pub struct Intake {
    pub store: Arc<dyn Store>,
    pub policy: Arc<ReplyPolicy>,
    pub catalog: Arc<LiveCatalog>,
    pub campaign: Arc<Campaign>,
    pub metrics: Arc<Metrics>,
    pub signing_key: String,
    pub sender_wake: Arc<Notify>,
    pub counters: IntakeCounters,
}

impl Intake {
    /// Stores everything in the batch. `Ok` means durable: the webhook may
    /// answer 200. Any error must become a 5xx so that Meta retries.
    pub async fn accept(
        &self,
        batch: WebhookBatch,
        raw_body: &[u8],
    ) -> Result<Vec<Ingested>, StoreError> {
        let now = Timestamp::now();
        if !batch.problems.is_empty() {
            let reason = batch.problems.join("; ");
            tracing::warn!(reason = %reason, "webhook body kept in quarantine");
            self.store.quarantine(raw_body, &reason, now).await?;
            self.counters.quarantined.fetch_add(1, Ordering::Relaxed);
        }
        self.counters
            .other_statuses
            .fetch_add(batch.other_statuses as u64, Ordering::Relaxed);
        let mut outcomes = vec![];
        if !batch.messages.is_empty() {
            let catalog = self.catalog.current();
            let ctx = IngestContext {
                policy: &self.policy,
                chooser: &catalog.chooser,
                keywords: catalog.localizer.keywords(),
                phase: self.campaign.countdown_at(now).phase,
                now,
                signing_key: &self.signing_key,
            };
            outcomes = self.store.ingest(batch.messages, &ctx).await?;
            for outcome in &outcomes {
                self.metrics.decision(outcome.decision.as_str());
                tracing::info!(user = %outcome.pseudonym, decision = %outcome.decision, notice_id = ?outcome.notice_id, "inbound message decided");
            }
            let duplicates = outcomes
                .iter()
                .filter(|o| o.decision == Decision::Duplicate)
                .count();
            self.counters
                .duplicates
                .fetch_add(duplicates as u64, Ordering::Relaxed);
            if outcomes.iter().any(|o| o.notice_id.is_some()) {
                self.sender_wake.notify_one();
            }
        }
        if !batch.statuses.is_empty() {
            let unknown = self.store.apply_statuses(&batch.statuses).await?;
            if unknown > 0 {
                tracing::debug!(
                    unknown,
                    "delivery reports for messages we never sent were dropped"
                );
                self.counters
                    .unknown_statuses
                    .fetch_add(unknown as u64, Ordering::Relaxed);
            }
        }
        Ok(outcomes)
    }
}
