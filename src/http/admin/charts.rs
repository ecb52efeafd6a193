//! Charts drawn on the server as SVG geometry: no script, no CDN.

/// One bar of a chart, in SVG user units.
#[derive(Clone, Debug)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub color: &'static str,
    /// The tooltip: what the bar counts.
    pub title: String,
}

/// A labelled horizontal bar (languages, countries, the funnel).
#[derive(Clone, Debug)]
pub struct Row {
    pub label: String,
    pub count: i64,
    /// Width in percent of the largest row.
    pub percent: f64,
}

/// A stacked daily column chart.
#[derive(Clone, Debug, Default)]
pub struct DailyChart {
    pub width: f64,
    pub height: f64,
    pub bars: Vec<Bar>,
    /// (x, text) of the date labels, a few only.
    pub labels: Vec<(f64, String)>,
    pub legend: Vec<(&'static str, &'static str)>,
    pub max: i64,
}

pub const DECISION_COLORS: [(&str, &str); 8] = [
    ("notified", "#2f7d4a"),
    ("coalesced", "#8fbf9f"),
    ("keyword", "#3b6fb6"),
    ("opted_out", "#b64a3b"),
    ("expired", "#c9a227"),
    ("ignored", "#9a9a9a"),
    ("suppressed", "#6b3bb6"),
    ("duplicate", "#cccccc"),
];

fn color_of(decision: &str) -> &'static str {
    DECISION_COLORS
        .iter()
        .find(|(d, _)| *d == decision)
        .map_or("#555555", |(_, c)| c)
}

/// Columns per day, stacked by decision. `days` is (date, [(decision, count)]).
pub fn daily(days: &[(String, Vec<(String, i64)>)]) -> DailyChart {
    let (width, height, gap) = (720.0, 200.0, 2.0);
    let max = days
        .iter()
        .map(|(_, d)| d.iter().map(|(_, c)| c).sum::<i64>())
        .max()
        .unwrap_or(0);
    let column = if days.is_empty() {
        width
    } else {
        width / days.len() as f64
    };
    let scale = if max == 0 {
        0.0
    } else {
        (height - 20.0) / max as f64
    };
    let mut bars = vec![];
    for (i, (date, decisions)) in days.iter().enumerate() {
        let x = i as f64 * column + gap / 2.0;
        let mut top = height - 20.0;
        for (decision, count) in decisions {
            let bar_height = *count as f64 * scale;
            top -= bar_height;
            bars.push(Bar {
                x,
                y: top,
                width: (column - gap).max(1.0),
                height: bar_height,
                color: color_of(decision),
                title: format!("{date}: {count} {decision}"),
            });
        }
    }
    let step = days.len().div_ceil(6).max(1);
    let labels = days
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0)
        .map(|(i, (date, _))| (i as f64 * column + 2.0, date.clone()))
        .collect();
    DailyChart {
        width,
        height,
        bars,
        labels,
        legend: DECISION_COLORS.to_vec(),
        max,
    }
}

/// Horizontal bars relative to the largest count.
pub fn rows(counts: &[(String, i64)]) -> Vec<Row> {
    let max = counts.iter().map(|(_, c)| *c).max().unwrap_or(0).max(1) as f64;
    counts
        .iter()
        .map(|(label, count)| Row {
            label: label.clone(),
            count: *count,
            percent: (*count as f64 / max * 100.0).round(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_stack_to_the_daily_total_and_fit_the_box() {
        let chart = daily(&[
            (
                "2027-06-01".into(),
                vec![("notified".into(), 6), ("ignored".into(), 4)],
            ),
            ("2027-06-02".into(), vec![("notified".into(), 5)]),
        ]);
        assert_eq!(chart.max, 10);
        assert_eq!(chart.bars.len(), 3);
        let first_day_height: f64 = chart.bars[..2].iter().map(|b| b.height).sum();
        assert!((first_day_height - 180.0).abs() < 1e-9);
        assert!(
            chart
                .bars
                .iter()
                .all(|b| b.y >= 0.0 && b.x + b.width <= chart.width)
        );
    }
}
