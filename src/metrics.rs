//! Prometheus metrics: webhooks, decisions, sends and their latency; the
//! queue is measured when scraped.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// Every metric the service exports.
pub struct Metrics {
    registry: Registry,
    webhooks: Family<Labels, Counter>,
    decisions: Family<Labels, Counter>,
    sends: Family<Labels, Counter>,
    send_latency: Histogram,
    queue_depth: Gauge,
    queue_oldest_age: Gauge,
    paused_numbers: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("sunset");
        let webhooks = Family::<Labels, Counter>::default();
        let decisions = Family::<Labels, Counter>::default();
        let sends = Family::<Labels, Counter>::default();
        let send_latency = Histogram::new(exponential_buckets(0.01, 2.0, 12));
        let (queue_depth, queue_oldest_age, paused_numbers) =
            (Gauge::default(), Gauge::default(), Gauge::default());
        registry.register(
            "webhooks_received",
            "Webhook POSTs by result",
            webhooks.clone(),
        );
        registry.register(
            "decisions",
            "Inbound messages by decision",
            decisions.clone(),
        );
        registry.register("sends", "Send attempts by result", sends.clone());
        registry.register(
            "send_latency_seconds",
            "Graph API send latency",
            send_latency.clone(),
        );
        registry.register(
            "queue_depth",
            "Notices waiting to be sent",
            queue_depth.clone(),
        );
        registry.register(
            "queue_oldest_age_seconds",
            "Age of the oldest waiting notice",
            queue_oldest_age.clone(),
        );
        registry.register(
            "paused_numbers",
            "Business numbers whose sending is paused",
            paused_numbers.clone(),
        );
        Self {
            registry,
            webhooks,
            decisions,
            sends,
            send_latency,
            queue_depth,
            queue_oldest_age,
            paused_numbers,
        }
    }
}

impl Metrics {
    pub fn webhook(&self, result: &str) {
        self.webhooks
            .get_or_create(&vec![("result", result.to_owned())])
            .inc();
    }

    pub fn decision(&self, decision: &str) {
        self.decisions
            .get_or_create(&vec![("decision", decision.to_owned())])
            .inc();
    }

    pub fn send(&self, result: &str) {
        self.sends
            .get_or_create(&vec![("result", result.to_owned())])
            .inc();
    }

    pub fn send_latency(&self, seconds: f64) {
        self.send_latency.observe(seconds);
    }

    /// The Prometheus text format, with the queue as it stands now.
    pub fn render(
        &self,
        queue_depth: i64,
        queue_oldest_age_seconds: i64,
        paused_numbers: i64,
    ) -> String {
        self.queue_depth.set(queue_depth);
        self.queue_oldest_age.set(queue_oldest_age_seconds);
        self.paused_numbers.set(paused_numbers);
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
