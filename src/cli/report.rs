//! Formats a run's report for people (a text summary) and for scripts (JSON, CSV).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::worker::{PhaseReport, RunReport};

#[derive(Serialize)]
struct PhaseJson<'a> {
    #[serde(flatten)]
    totals: &'a crate::metrics::Totals,
    steps_per_second: f64,
    wall_seconds: f64,
}

fn phase_json(p: &PhaseReport) -> Value {
    serde_json::to_value(PhaseJson {
        totals: &p.totals,
        steps_per_second: p.steps_per_second(),
        wall_seconds: p.wall_seconds,
    })
    .expect("plain data serialises")
}

/// The run as one JSON object: scenario, policy, seed, slate size and re-ranking, the learner's figures (`device`,
/// `device_reason`,
/// `updates`, `updates_per_second`, `td_loss`, `mean_q`, `epsilon`, `lr`, `click_log_loss`; zero or
/// null for a policy that does not learn values or fit clicks), the training phase's metrics at the top level, and `eval` with
/// the same metrics for the evaluation phase when there was one.
pub fn to_json(r: &RunReport) -> Value {
    let mut obj = Map::new();
    obj.insert("scenario".into(), r.scenario.clone().into());
    obj.insert("policy".into(), r.policy.clone().into());
    obj.insert("seed".into(), r.seed.into());
    obj.insert("slate_size".into(), r.slate_size.into());
    obj.insert("rerank".into(), r.rerank.clone().into());
    obj.insert("device".into(), r.device.clone().into());
    obj.insert("device_reason".into(), r.device_reason.clone().into());
    obj.insert("ended_early".into(), r.ended_early.clone().into());
    obj.insert("incomplete".into(), r.interrupted.into());
    let l = r.learner.as_ref();
    obj.insert("updates".into(), l.map_or(0, |l| l.updates).into());
    obj.insert(
        "updates_per_second".into(),
        l.map_or(0.0, |l| l.updates_per_second).into(),
    );
    obj.insert("td_loss".into(), l.and_then(|l| l.td_loss).into());
    obj.insert("mean_q".into(), l.and_then(|l| l.mean_q).into());
    obj.insert("epsilon".into(), l.and_then(|l| l.epsilon).into());
    obj.insert("lr".into(), l.and_then(|l| l.lr).into());
    obj.insert(
        "click_log_loss".into(),
        l.and_then(|l| l.click_log_loss).into(),
    );
    if let Value::Object(train) = phase_json(&r.train) {
        obj.extend(train);
    }
    if let Some(e) = &r.eval {
        obj.insert("eval".into(), phase_json(e));
    }
    obj.insert(
        "validation".into(),
        serde_json::to_value(&r.validation).expect("plain data serialises"),
    );
    obj.insert("best_step".into(), r.best_step.into());
    obj.insert("stopped_early".into(), r.stopped_early.into());
    if let Some(err) = &r.error {
        obj.insert("error".into(), err.clone().into());
    }
    Value::Object(obj)
}

/// The windowed series as CSV: a header row, then one row per window, train phase first.
pub fn to_csv(r: &RunReport) -> String {
    let mut out = String::new();
    let phases = std::iter::once(("train", &r.train)).chain(r.eval.iter().map(|e| ("eval", e)));
    let mut header_done = false;
    for (phase, p) in phases {
        for row in &p.rows {
            let Value::Object(fields) = serde_json::to_value(row).expect("plain data serialises")
            else {
                continue;
            };
            if !header_done {
                out.push_str("phase");
                for k in fields.keys() {
                    out.push(',');
                    out.push_str(k);
                }
                out.push('\n');
                header_done = true;
            }
            out.push_str(phase);
            for v in fields.values() {
                out.push(',');
                match v {
                    Value::Number(n) => out.push_str(&n.to_string()),
                    Value::Null => {}
                    other => out.push_str(&other.to_string()),
                }
            }
            out.push('\n');
        }
    }
    // Validations as rows of their own: the training step they followed, the validation
    // world's reward per step and per session; the other columns empty.
    if let Some(header) = out.lines().next().map(str::to_string) {
        for (i, v) in r.validation.iter().enumerate() {
            let cells: Vec<String> = header
                .split(',')
                .map(|k| match k {
                    "phase" => "validation".to_string(),
                    "window" => i.to_string(),
                    "step" => v.step.to_string(),
                    "reward_per_step" => v.reward_per_step.to_string(),
                    "mean_session_reward" => v.reward_per_session.to_string(),
                    _ => String::new(),
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
    }
    out
}

fn phase_text(name: &str, p: &PhaseReport) -> String {
    let t = &p.totals;
    let r = &t.rates;
    let d = &t.diversity;
    format!(
        "{name}: {steps} steps in {wall:.2} s ({sps:.0} steps/s), {days:.1} simulated days\n\
         \x20 reward        {rps:.4} per step, {total:.1} total, {msr:.2} per session\n\
         \x20 viewers       {acc:.1}% accepted, {watch:.0} watch minutes, {likes} likes, {comments} comments, {gifts} gifts, {follows} follows\n\
         \x20 sessions      {sessions} ended, {len:.2} recommendations and {mins:.1} minutes each, {ret:.1}% return, {churned} churned{uncounted}\n\
         \x20 daily active  {dav:.0} viewers per day\n\
         \x20 diversity     coverage {cov:.3}, topic entropy {ent:.3}, exposure Gini {gini:.3}\n\
         \x20 myopic regret {regret:.4} per step{nothing}\n",
        steps = r.steps,
        wall = p.wall_seconds,
        sps = p.steps_per_second(),
        days = t.sim_days,
        rps = r.reward_per_step,
        total = t.total_reward,
        msr = r.mean_session_reward,
        acc = 100.0 * r.acceptance_rate,
        watch = t.watch_minutes,
        likes = t.likes,
        comments = t.comments,
        gifts = t.gifts,
        follows = t.follows,
        sessions = r.sessions,
        len = r.mean_session_length,
        mins = r.mean_session_minutes,
        ret = 100.0 * r.return_rate,
        churned = r.churned,
        uncounted = uncounted_sessions(t),
        dav = t.daily_active_viewers,
        cov = d.coverage,
        ent = d.topic_entropy,
        gini = d.exposure_gini,
        regret = r.myopic_regret_per_step,
        nothing = if t.nothing_live_steps > 0 {
            format!("\n  nothing live  {} steps", t.nothing_live_steps)
        } else {
            String::new()
        },
    )
}

/// The sessions a phase's session figures leave out, when there are any.
fn uncounted_sessions(t: &crate::metrics::Totals) -> String {
    if t.sessions_carried_in + t.sessions_open == 0 {
        return String::new();
    }
    format!(
        " (not counted: {} begun before the phase, {} still open)",
        t.sessions_carried_in, t.sessions_open
    )
}

/// A readable summary of the run.
pub fn to_text(r: &RunReport) -> String {
    let mut s = format!(
        "liveq run: scenario {}, policy {}, seed {}, device {}\n",
        r.scenario, r.policy, r.seed, r.device
    );
    s.push_str(&phase_text("train", &r.train));
    if let Some(l) = &r.learner {
        let opt = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
        s.push_str(&format!(
            "  learner       {} updates ({:.0}/s), TD loss {}, mean Q {}, epsilon {}, lr {}\n",
            l.updates,
            l.updates_per_second,
            opt(l.td_loss),
            opt(l.mean_q),
            opt(l.epsilon),
            l.lr.map_or("-".to_string(), |v| format!("{v:.3e}"))
        ));
        if let Some(c) = l.click_log_loss {
            s.push_str(&format!("  click model   log-loss {c:.4}\n"));
        }
    }
    if !r.validation.is_empty() {
        let best = r.best_step.map_or("none".to_string(), |b| {
            format!("step {}", crate::fmt::count(b))
        });
        let curve: Vec<String> = r
            .validation
            .iter()
            .map(|v| format!("{:.3}", v.reward_per_step))
            .collect();
        s.push_str(&format!(
            "  validation    {} runs, reward/step {}; best weights from {best}{}\n",
            r.validation.len(),
            curve.join(" "),
            if r.stopped_early {
                ", stopped early"
            } else {
                ""
            }
        ));
    }
    if let Some(e) = &r.eval {
        s.push_str(&phase_text("eval ", e));
    }
    if let Some(err) = &r.error {
        s.push_str(&format!("stopped early: {err}\n"));
    }
    s
}
