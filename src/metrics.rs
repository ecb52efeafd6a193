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
        prometheus_text(&out)
    }
}

/// prometheus-client writes OpenMetrics. Prometheus's own text format
/// (0.0.4, what /metrics declares) names a counter's family after its
/// sample, `…_total`, and has no `# UNIT` or `# EOF` lines.
fn prometheus_text(open_metrics: &str) -> String {
    let counters: Vec<&str> = open_metrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(open_metrics.len() + 16 * counters.len());
    for line in open_metrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let family = ["# TYPE ", "# HELP "].into_iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            counters
                .contains(&name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        out.push_str(family.as_deref().unwrap_or(line).trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_named_as_prometheus_text_names_them() {
        let metrics = Metrics::default();
        metrics.webhook("ok");
        let text = metrics.render(3, 0, 0);
        assert!(
            text.contains("# TYPE sunset_webhooks_received_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("# HELP sunset_webhooks_received_total "),
            "{text}"
        );
        assert!(text.contains("sunset_webhooks_received_total{result=\"ok\"} 1\n"));
        assert!(text.contains("# TYPE sunset_queue_depth gauge\nsunset_queue_depth 3\n"));
        assert!(!text.contains("# EOF"), "{text}");
    }
}
