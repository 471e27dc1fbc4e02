//! The benchmark's table: per scenario and policy, the mean and 95% confidence interval of each
//! metric over seeds, as data (JSON) and as markdown.

use serde::Serialize;

use super::RunResult;
use crate::metrics::Totals;
use crate::metrics::stats::mean_ci95;

/// A reported metric: its JSON name, its column header, and how to read it from run totals.
pub type Metric = (&'static str, &'static str, fn(&Totals) -> f64);

/// The metrics the table reports.
pub const METRICS: &[Metric] = &[
    ("reward_per_step", "reward/step", |t| {
        t.rates.reward_per_step
    }),
    ("reward_per_session", "reward/session", |t| {
        t.rates.mean_session_reward
    }),
    ("session_length", "session length", |t| {
        t.rates.mean_session_length
    }),
    ("return_rate", "return rate", |t| t.rates.return_rate),
    ("acceptance_rate", "acceptance", |t| t.rates.acceptance_rate),
    ("coverage", "coverage", |t| t.diversity.coverage),
    ("topic_entropy", "topic entropy", |t| {
        t.diversity.topic_entropy
    }),
    ("exposure_gini", "exposure Gini", |t| {
        t.diversity.exposure_gini
    }),
    ("myopic_regret_per_step", "myopic regret", |t| {
        t.rates.myopic_regret_per_step
    }),
    ("newcomer_reward_per_step", "newcomer reward/step", |t| {
        t.rates.newcomer_reward_per_step
    }),
    (
        "first_session_reward_per_step",
        "first-session reward/step",
        |t| t.rates.first_session_reward_per_step,
    ),
    ("ndcg_at_k", "NDCG@K", |t| t.rates.ranking.ndcg_at_k),
    ("precision_at_k", "precision@K", |t| {
        t.rates.ranking.precision_at_k
    }),
    ("intra_list_diversity", "intra-list diversity", |t| {
        t.rates.ranking.intra_list_diversity
    }),
];

/// Mean and 95% CI half-width of one metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub ci95: f64,
}

/// One row of the table: a policy on a scenario over its seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub scenario: String,
    pub policy: String,
    pub seeds: usize,
    /// Steps each run trained before its evaluation (the same for every policy of a scenario).
    pub train_steps: u64,
    /// In the order of [`METRICS`], keyed by name in JSON.
    pub metrics: serde_json::Map<String, serde_json::Value>,
    #[serde(skip)]
    pub estimates: Vec<Estimate>,
}

/// Groups runs by (scenario, policy) in first-seen order and summarises every metric.
pub fn rows(runs: &[RunResult]) -> Vec<Row> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in runs {
        let k = (r.scenario.clone(), r.policy.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.into_iter()
        .map(|(scenario, policy)| {
            let group: Vec<&RunResult> = runs
                .iter()
                .filter(|r| r.scenario == scenario && r.policy == policy)
                .collect();
            let estimates: Vec<Estimate> = METRICS
                .iter()
                .map(|(_, _, f)| {
                    let xs: Vec<f64> = group.iter().map(|r| f(&r.metrics)).collect();
                    let (mean, ci95) = mean_ci95(&xs);
                    Estimate { mean, ci95 }
                })
                .collect();
            let metrics = METRICS
                .iter()
                .zip(&estimates)
                .map(|((name, _, _), e)| {
                    let ci = if e.ci95.is_finite() {
                        serde_json::json!(e.ci95)
                    } else {
                        serde_json::Value::Null
                    };
                    (
                        name.to_string(),
                        serde_json::json!({ "mean": e.mean, "ci95": ci }),
                    )
                })
                .collect();
            Row {
                scenario,
                policy,
                seeds: group.len(),
                train_steps: group[0].train_steps,
                metrics,
                estimates,
            }
        })
        .collect()
}

fn cell(e: &Estimate) -> String {
    if e.ci95.is_finite() {
        format!("{:.3} ± {:.3}", e.mean, e.ci95)
    } else {
        format!("{:.3}", e.mean)
    }
}

/// One markdown table per scenario, headed by its name and training length; the best mean
/// reward per step is in bold. A column that reads exactly zero for every policy of a scenario
/// (reward on newcomer streams where no streamer joins, intra-list diversity of single
/// recommendations) says nothing there and is left out of that scenario's table; JSON keeps it.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    let mut scenarios: Vec<&str> = Vec::new();
    for r in rows {
        if !scenarios.contains(&r.scenario.as_str()) {
            scenarios.push(&r.scenario);
        }
    }
    for s in scenarios {
        let group: Vec<&Row> = rows.iter().filter(|r| r.scenario == s).collect();
        let best = group
            .iter()
            .map(|r| r.estimates[0].mean)
            .fold(f64::NEG_INFINITY, f64::max);
        // Every policy of a scenario trains as long (see `BenchPlan::train_steps_for`).
        out.push_str(&format!(
            "### {s} ({} training steps)\n\n| policy | seeds |",
            crate::fmt::count(group[0].train_steps)
        ));
        let shown: Vec<usize> = (0..METRICS.len())
            .filter(|&i| {
                i == 0
                    || group
                        .iter()
                        .any(|r| r.estimates[i].mean != 0.0 || r.estimates[i].ci95 > 0.0)
            })
            .collect();
        for &i in &shown {
            out.push_str(&format!(" {} |", METRICS[i].1));
        }
        out.push_str("\n| --- | --- |");
        out.push_str(&" --- |".repeat(shown.len()));
        out.push('\n');
        for r in group {
            out.push_str(&format!("| `{}` | {} |", r.policy, r.seeds));
            for &i in &shown {
                let e = &r.estimates[i];
                let c = cell(e);
                if i == 0 && e.mean == best {
                    out.push_str(&format!(" **{c}** |"));
                } else {
                    out.push_str(&format!(" {c} |"));
                }
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(policy: &str, seed: u64, reward: f64) -> RunResult {
        let mut metrics = Totals::default();
        metrics.rates.reward_per_step = reward;
        RunResult {
            scenario: "s".into(),
            policy: policy.into(),
            seed,
            train_steps: 150_000,
            metrics,
            curve: vec![],
            wall_seconds: 0.0,
        }
    }

    #[test]
    fn rows_group_by_scenario_and_policy_with_hand_computed_intervals() {
        let runs = [
            run("a", 1, 1.0),
            run("b", 1, 5.0),
            run("a", 2, 2.0),
            run("a", 3, 3.0),
        ];
        let rows = rows(&runs);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].policy.as_str(), rows[0].seeds), ("a", 3));
        let e = rows[0].estimates[0];
        assert_eq!(e.mean, 2.0);
        assert!((e.ci95 - 4.303 / 3f64.sqrt()).abs() < 1e-9);
        assert!(rows[1].estimates[0].ci95.is_nan());
        let md = markdown(&rows);
        assert!(md.starts_with("### s (150,000 training steps)\n"), "{md}");
        assert!(md.contains("| `a` | 3 | 2.000 ± 2.484 |"), "{md}");
        assert!(md.contains("| `b` | 1 | **5.000** |"), "{md}");
    }

    #[test]
    fn columns_that_read_zero_for_every_policy_are_left_out_of_the_markdown() {
        let mut a = run("a", 1, 1.0);
        a.metrics.rates.newcomer_reward_per_step = 0.5;
        let b = run("b", 1, 2.0);
        let md = markdown(&rows(&[a.clone(), b.clone()]));
        assert!(md.contains("newcomer reward/step"), "{md}");
        assert!(!md.contains("intra-list diversity"), "{md}");
        assert!(!md.contains("myopic regret"), "{md}");
        // Every row has as many cells as the header.
        let widths: Vec<usize> = md
            .lines()
            .filter(|l| l.starts_with('|'))
            .map(|l| l.matches('|').count())
            .collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{md}");
        // A column some policy reads is kept for all of them, zeros included.
        let mut c = run("c", 1, 0.0);
        c.scenario = "t".into();
        let md = markdown(&rows(&[a, b, c]));
        assert!(md.contains("| `b` | 1 | **2.000** |"), "{md}");
        assert!(
            md.contains("### t (150,000 training steps)\n\n| policy | seeds | reward/step |\n"),
            "{md}"
        );
    }
}
