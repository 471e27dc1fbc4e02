//! What each feature family buys the learner (`liveq bench --ablate features`): every scenario
//! runs as it is and once without each feature family its learner reads; the variants are
//! named `<name>~no-<family>` (e.g. `social~no-social`), so the table shows each family's worth
//! as the gap between a scenario's row and its variant's.

use crate::scenario::{FeatureFamily, Scenario};

/// The separator between a scenario's name and the family its variant leaves out.
pub const SEPARATOR: &str = "~no-";

/// `scenario` as it is, then without each feature family its learner reads. Without
/// "history" the taste features (which read it) go too.
pub fn variants(scenario: &Scenario) -> Vec<Scenario> {
    let mut out = vec![scenario.clone()];
    let agent = &scenario.params.agent;
    for family in FeatureFamily::ALL {
        if !agent.reads(family) {
            continue;
        }
        let mut s = scenario.clone();
        let a = &mut s.params.agent;
        a.features.retain(|&f| f != family);
        match family {
            FeatureFamily::History => a.taste_features = false,
            FeatureFamily::Engagement => a.engagement_features = false,
            FeatureFamily::Demographics | FeatureFamily::Social | FeatureFamily::Content => {}
        }
        s.params.scenario.name = format!("{}{SEPARATOR}{}", scenario.name(), family.name());
        out.push(s);
    }
    out
}

/// The base scenario and the family a variant's name leaves out (None: the scenario itself).
pub fn split(name: &str) -> (&str, Option<&str>) {
    match name.split_once(SEPARATOR) {
        Some((base, family)) => (base, Some(family)),
        None => (name, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_variant_per_family_read_each_without_it() {
        let s = Scenario::load("social").unwrap();
        let v = variants(&s);
        let names: Vec<&str> = v.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "social",
                "social~no-history",
                "social~no-demographics",
                "social~no-social"
            ]
        );
        assert!(!v[1].params.agent.reads(FeatureFamily::History));
        assert!(v[1].params.agent.reads(FeatureFamily::Social));
        assert!(!v[2].params.agent.reads(FeatureFamily::Demographics));
        assert!(!v[3].params.agent.reads(FeatureFamily::Social));
        assert!(v.iter().all(|s| s.params.agent.validate().is_ok()));
        assert_eq!(split("social~no-social"), ("social", Some("social")));
        assert_eq!(split("social"), ("social", None));
        // engagement_features = true counts as the "engagement" family.
        let cold = variants(&Scenario::load("cold_start").unwrap());
        assert!(
            !cold
                .last()
                .unwrap()
                .params
                .agent
                .reads(FeatureFamily::Engagement)
        );
        assert_eq!(cold.len(), 3);
    }
}
