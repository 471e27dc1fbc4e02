//! What the examples guess of a viewer's taste from the logs a platform keeps (shared by
//! `oracle_information` and `choices`; not an example itself).

use liveq::scenario::RawScenario;
use liveq::sim::Observation;

/// Interest in each topic relative to the viewer's strongest, in [0, 1], guessed from hours
/// watched per topic: the last day's (`longer_logs` false) or the week's averaged with a guess
/// from the share of each topic's recommendations the viewer accepted (the acceptance model
/// inverted at a stream of average quality and appeal). 0.5 for a viewer with no hours yet.
pub fn guess_taste(
    obs: &Observation<'_>,
    params: &RawScenario,
    longer_logs: bool,
    taste: &mut Vec<f64>,
) {
    taste.clear();
    if longer_logs {
        taste.extend(obs.history.week_hours.iter().map(|&h| h as f64));
    } else {
        taste.extend((0..obs.num_topics).map(|t| obs.history.recent(t, obs.time) as f64));
    }
    let top = taste.iter().copied().fold(0.0, f64::max);
    for x in taste.iter_mut() {
        *x = if top > 0.0 { *x / top } else { 0.5 };
    }
    if longer_logs {
        // The utility that explains the smoothed share of accepted recommendations, less what
        // quality and appeal add.
        let (r, s) = (&params.response, &params.streamers);
        let h = &obs.history;
        for (t, x) in taste.iter_mut().enumerate() {
            let p = (h.accepted[t] as f64 + 0.5) / (h.shown[t] as f64 + 1.0);
            let u = r.outside_option + r.temperature * (p / (1.0 - p)).ln()
                - r.quality_weight * s.quality_mean
                - r.appeal_weight * s.appeal_mean;
            *x = 0.5 * *x + 0.5 * (u / r.interest_weight).clamp(0.0, 1.0);
        }
    }
}
