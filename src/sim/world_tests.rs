//! Unit tests of what the world makes public: nothing hidden reaches the logs or the
//! channels' counts, and counts never run ahead of time.

use super::*;

/// A world waiting for a decision, with a live stream to watch.
fn waiting_world(seed: u64) -> (World, u32, u32) {
    let scenario = Scenario::builtin_default();
    let mut w = World::new(&scenario, seed);
    loop {
        let v = w.next_decision().expect("viewers");
        if let Some(&i) = w.live().first() {
            return (w, v, i);
        }
        w.respond(None).unwrap();
    }
}

fn public_history(w: &World) -> String {
    let o = w.observe();
    let h = o.history;
    format!(
        "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {} {}",
        h.recent_hours,
        h.week_hours,
        h.engagement,
        h.shown,
        h.accepted,
        h.last_topic,
        h.session_watches,
        h.recent_at,
        h.last_watch_at,
    )
}

/// The same watch (viewer, stream, hours, engagement) of streams that differ only in hidden
/// attributes — the weights of their topic mix, quality, appeal, kind — leaves the same logs
/// and the same public stream features.
#[test]
fn hidden_attributes_never_reach_the_logs() {
    for seed in 0..6 {
        let (mut a, v, i) = waiting_world(seed);
        let mut b = a.clone();
        let hb = &mut b.hidden[i as usize];
        hb.focus = if seed % 2 == 0 { 0.55 } else { 1.0 };
        hb.quality = 1.0 - hb.quality;
        hb.appeal *= 0.5;
        hb.kind = StreamerKind::Clickbait;
        let e = Engagement {
            watch_minutes: 90.0,
            likes: 2,
            comments: 1,
            gifts: 0,
            follows: 1,
        };
        for w in [&mut a, &mut b] {
            w.after_watch(v, i, 1.5, &e);
            w.credit_watch(v, i);
        }
        assert_eq!(public_history(&a), public_history(&b), "seed {seed}");
        assert_eq!(a.streams(), b.streams(), "seed {seed}");
        // The hours are split evenly over the stream's two public tags.
        let tags = a.streams()[i as usize].tags;
        let o = a.observe();
        assert_eq!(o.history.recent_hours[tags[0] as usize], 0.75);
        assert_eq!(o.history.recent_hours[tags[1] as usize], 0.75);
    }
}

/// A channel's hours, likes and comments grow when a watch ends, not when it is accepted.
#[test]
fn channel_counts_are_credited_when_the_watch_ends() {
    let mut scenario = Scenario::builtin_default();
    scenario.params.response.outside_option = -30.0;
    scenario.params.response.likes_per_hour = 30.0;
    let mut w = World::new(&scenario, 1);
    let mut checked = 0;
    while checked < 20 {
        let v = w.next_decision().expect("viewers");
        let Some(&i) = w.live().first() else {
            w.respond(None).unwrap();
            continue;
        };
        let before = w.streams()[i as usize];
        let o = w.respond(Some(i)).unwrap();
        if !o.accepted {
            continue;
        }
        let now = w.streams()[i as usize];
        assert_eq!(
            (now.hours_watched, now.likes, now.comments),
            (before.hours_watched, before.likes, before.comments),
            "nothing is credited ahead of time"
        );
        while matches!(w.viewers[v as usize].status, Status::Watching(_)) {
            w.next_decision().expect("viewers");
            if w.pending() != Some(v) {
                let choice = w.live().first().copied();
                w.respond(choice).unwrap();
            }
        }
        let after = w.streams()[i as usize];
        // Other viewers' watches of the stream may have ended meanwhile too.
        let hours = after.hours_watched - before.hours_watched;
        assert!(hours >= o.engagement.watch_minutes / 60.0 - 1e-9, "{hours}");
        assert!(after.likes >= before.likes + o.engagement.likes as u64);
        assert!(after.comments >= before.comments + o.engagement.comments as u64);
        if w.pending() == Some(v) {
            w.respond(w.live().first().copied()).unwrap();
        }
        checked += 1;
    }
}

fn demographic_world(strength: f64, seed: u64) -> World {
    let mut scenario = Scenario::builtin_default();
    scenario.params.viewers.count = 4_000;
    scenario.params.viewers.demographic_taste_strength = strength;
    World::new(&scenario, seed)
}

/// Mean over viewers of how much of their taste lies on their own group's favourite topic,
/// minus the same for another group's favourite topic.
fn taste_lean(w: &World) -> f64 {
    let k = w.k;
    let groups = AGE_BANDS.len() + GENDERS.len() + w.p.viewers.region_weights.len();
    let favourite = |d: &Demographics| -> usize {
        // The profile the viewer's tastes lean towards, from the platform's rows.
        let rows = [
            d.age_band as usize,
            AGE_BANDS.len() + d.gender as usize,
            AGE_BANDS.len() + GENDERS.len() + d.region as usize,
        ];
        (0..k)
            .max_by(|&a, &b| {
                let s =
                    |t: usize| -> f32 { rows.iter().map(|r| w.taste_profiles[r * k + t]).sum() };
                s(a).total_cmp(&s(b))
            })
            .unwrap()
    };
    let (mut own, mut other) = (0.0, 0.0);
    let n = w.viewers.len();
    for v in 0..n {
        let interest = &w.topic_state[part(k, v as u32, INTEREST)];
        let mine = favourite(&w.viewers[v].demographics);
        let theirs = favourite(&w.viewers[(v * 7 + 13) % n].demographics);
        own += interest[mine] as f64;
        other += interest[theirs] as f64;
    }
    assert_eq!(w.taste_profiles.len(), groups * k);
    (own - other) / n as f64
}

/// Hidden tastes lean towards the viewer's demographic group as far as the strength says:
/// viewers hold more of their own group's favourite topic than of another group's, more so
/// at a higher strength; demographics are public and drawn in the configured shares.
#[test]
fn demographic_prior_shifts_tastes_as_configured() {
    let weak = taste_lean(&demographic_world(0.2, 5));
    let strong = taste_lean(&demographic_world(0.8, 5));
    assert!(weak > 0.01, "{weak}");
    assert!(strong > 2.5 * weak, "{strong} against {weak}");
    let w = demographic_world(0.0, 5);
    assert!(w.taste_profiles.is_empty(), "no profiles without a prior");
    let mobile = w
        .viewers
        .iter()
        .filter(|s| s.demographics.device == 0)
        .count() as f64;
    let share = mobile / w.viewers.len() as f64;
    assert!((share - 0.7).abs() < 0.03, "mobile share {share}");
    let unspecified = w
        .viewers
        .iter()
        .filter(|s| s.demographics.gender == 2)
        .count() as f64;
    assert!((unspecified / w.viewers.len() as f64 - 0.1).abs() < 0.02);
}

/// A device's factors scale the session budget and the mean watch time.
#[test]
fn devices_shift_session_length_and_watch_time() {
    let mut scenario = Scenario::builtin_default();
    scenario.params.viewers.device_weights = vec![1.0, 1.0, 0.0];
    scenario.params.viewers.device_session_factor = vec![0.5, 2.0, 1.0];
    scenario.params.viewers.device_watch_factor = vec![0.8, 1.5, 1.0];
    let mut w = World::new(&scenario, 2);
    let mut budgets = [(0.0, 0u32); 2];
    for _ in 0..30_000 {
        let v = w.next_decision().expect("viewers");
        let st = &w.viewers[v as usize];
        let device = st.demographics.device as usize;
        if st.session_steps == 0 && st.session_accepted == 0 && w.now - st.session_start < 1e-9 {
            budgets[device].0 += st.budget;
            budgets[device].1 += 1;
        }
        if let Some(&i) = w.live().first() {
            let want = [0.8, 1.5][device];
            assert_eq!(w.pair(v, i).watch_factor, want);
        }
        let choice = w.live().first().copied();
        w.respond(choice).unwrap();
    }
    let mean = |(sum, n): (f64, u32)| sum / n as f64;
    let (mobile, desktop) = (mean(budgets[0]), mean(budgets[1]));
    // Budgets are session_minutes (60) × U(0.5, 1.5) × the device's factor.
    assert!((mobile - 30.0).abs() < 3.0, "mobile {mobile}");
    assert!((desktop - 120.0).abs() < 12.0, "desktop {desktop}");
}

/// Follow events create follow edges, once per streamer and at most `max_follows` per viewer;
/// the public follower counts agree with the edges.
#[test]
fn follow_events_create_capped_edges() {
    let mut scenario = Scenario::builtin_default();
    scenario.params.viewers.count = 300;
    scenario.params.viewers.max_follows = 2;
    scenario.params.viewers.churn_max = 0.0; // a viewer who churns takes its follows along
    scenario.params.response.follow_probability = 1.0;
    scenario.params.response.outside_option = -5.0;
    let mut w = World::new(&scenario, 4);
    let mut follows = 0u64;
    for _ in 0..40_000 {
        w.next_decision().expect("viewers");
        let choice = w.live().first().copied();
        follows += w.respond(choice).unwrap().engagement.follows as u64;
    }
    let edges: usize = (0..300).map(|v| w.social.follows(v).len()).sum();
    assert!(edges > 100, "{edges} edges");
    assert!((0..300).all(|v| w.social.follows(v).len() <= 2));
    // Follow events still waiting to be credited at the end of their watch are not edges yet.
    let waiting = w.viewers.iter().filter(|s| s.watch_credit.followed).count();
    assert_eq!(follows as usize, edges + waiting, "one event per edge");
    for (i, s) in w.streams().iter().enumerate() {
        assert_eq!(s.followers as usize, w.social.followers(i as u32).len());
    }
}

/// Each viewer likes each streamer by its own fixed amount (`pair_affinity_sd`): spread as
/// configured, the same whenever asked, renewed when a new streamer takes the slot, added to
/// the utility; and viewers follow the streamers they like more. Nothing without the key.
#[test]
fn pair_affinities_are_fixed_spread_as_configured_and_drive_follows() {
    let mut scenario = Scenario::builtin_default();
    scenario.params.viewers.count = 400;
    let plain = World::new(&scenario, 6);
    assert!(
        (0..400)
            .all(|v| (0..plain.streams().len() as u32).all(|i| plain.pair(v, i).affinity == 0.0))
    );
    scenario.params.response.pair_affinity_sd = 0.8;
    let mut w = World::new(&scenario, 6);
    let n = w.streams().len() as u32;
    let a: Vec<f64> = (0..400u32)
        .flat_map(|v| (0..n).map(move |i| (v, i)))
        .map(|(v, i)| w.pair(v, i).affinity)
        .collect();
    let mean = a.iter().sum::<f64>() / a.len() as f64;
    let sd = (a.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / a.len() as f64).sqrt();
    assert!(
        mean.abs() < 0.02 && (sd - 0.8).abs() < 0.02,
        "mean {mean}, sd {sd}"
    );
    assert_eq!(w.pair(3, 5).affinity, w.pair(3, 5).affinity);
    assert_ne!(w.pair(3, 5).affinity, w.pair(4, 5).affinity);
    let x = w.pair(3, 5);
    let without = response::utility(&w.p.response, &Pair { affinity: 0.0, ..x });
    assert!((response::utility(&w.p.response, &x) - without - x.affinity).abs() < 1e-12);
    // A newcomer in the slot: new affinities.
    let before: Vec<f64> = (0..400).map(|v| w.pair(v, 5).affinity).collect();
    w.hidden[5].generation += 1;
    let after: Vec<f64> = (0..400).map(|v| w.pair(v, 5).affinity).collect();
    assert!(before.iter().zip(&after).all(|(b, a)| b != a));
    // Watch time and follows: 2·σ(affinity) times what they are without it.
    let rp = &w.p.response;
    let plain = Pair { affinity: 0.0, ..x };
    let (watch, follow) = (
        response::watch_mean(rp, &plain),
        response::follow_probability(rp, &plain),
    );
    for a in [-1.5f64, 0.7] {
        let factor = 2.0 / (1.0 + (-a).exp());
        let liked = Pair { affinity: a, ..x };
        assert!((response::watch_mean(rp, &liked) - watch * factor).abs() < 1e-9);
        assert!((response::follow_probability(rp, &liked) - follow * factor).abs() < 1e-12);
    }
}

/// When a followed streamer goes live, only its online followers are notified.
#[test]
fn notifications_reach_online_followers_only() {
    let mut scenario = Scenario::builtin_default();
    scenario.params.viewers.notification_pick = 1.0;
    scenario.params.response.outside_option = -30.0;
    let mut w = World::new(&scenario, 6);
    let i = (0..w.streams.len() as u32)
        .find(|&i| !w.streams[i as usize].live)
        .unwrap();
    let j = *w.live().first().expect("something live");
    let statuses = [
        Status::Active,
        Status::Watching(j),
        Status::Away,
        Status::Churned,
    ];
    for (v, status) in statuses.into_iter().enumerate() {
        w.viewers[v].status = status;
        assert!(w.social.follow(v as u32, i));
    }
    w.viewers[4].status = Status::Active; // online, not a follower
    let now = w.now;
    w.go_live(i, now);
    let notified: Vec<u32> = (0..5).map(|v| w.viewers[v].notified).collect();
    assert_eq!(notified, [i + 1, i + 1, 0, 0, 0]);
    // At its next choice the notified viewer watches the stream by itself.
    let audience = w.streams[i as usize].viewers;
    assert!(w.notified_pick(0));
    assert_eq!(w.viewers[0].status, Status::Watching(i));
    assert_eq!(w.streams[i as usize].viewers, audience + 1);
    assert_eq!(w.viewers[0].notified, 0, "a notification is used once");
}

/// The observation counts the viewer's friends on each live stream, and friends watching
/// raise a stream's utility by `friend_weight`·ln(1 + friends).
#[test]
fn friends_watching_are_observed_and_raise_appeal() {
    let mut scenario = Scenario::builtin_default();
    scenario.params.viewers.count = 2_000;
    scenario.params.viewers.friends_mean = 20.0;
    scenario.params.response.friend_weight = 0.7;
    let mut w = World::new(&scenario, 8);
    let mut seen = 0;
    for _ in 0..20_000 {
        let v = w.next_decision().expect("viewers");
        let mut want: Vec<(u32, u16)> = Vec::new();
        for &f in w.social.friends(v) {
            if let Status::Watching(i) = w.viewers[f as usize].status {
                match want.iter_mut().find(|(s, _)| *s == i) {
                    Some((_, n)) => *n += 1,
                    None => want.push((i, 1)),
                }
            }
        }
        let got = w.observe().history.friends_watching.to_vec();
        assert_eq!(got, want);
        for &(i, n) in &got {
            let x = w.pair(v, i);
            assert_eq!(x.friends, n as u32);
            let alone = response::utility(&w.p.response, &Pair { friends: 0, ..x });
            let with = response::utility(&w.p.response, &x);
            assert!((with - alone - 0.7 * (1.0 + n as f64).ln()).abs() < 1e-12);
            seen += 1;
        }
        let choice = w.live().first().copied();
        w.respond(choice).unwrap();
    }
    assert!(seen > 100, "friends were watching {seen} times");
}

fn content_world(noise: f64) -> World {
    let mut scenario = Scenario::builtin_default();
    scenario.params.streamers.count = 1_000;
    scenario.params.streamers.content_dim = 8;
    scenario.params.streamers.content_noise = vec![noise, 0.0, 3.0];
    World::new(&scenario, 12)
}

/// Correlation of quality with the best linear read-out of one modality's vector.
fn quality_evidence(w: &World, modality: usize) -> f64 {
    let dim = w.p.streamers.content_dim;
    let len = w.content_len();
    // The clean projection's quality column says how quality enters each value.
    let k = w.k;
    let weights: Vec<f32> = (0..dim)
        .map(|d| w.content_projection[(modality * dim + d) * (k + 2) + k])
        .collect();
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for (i, h) in w.hidden.iter().enumerate() {
        let v = &w.content[i * len + modality * dim..][..dim];
        xs.push(
            v.iter()
                .zip(&weights)
                .map(|(a, b)| (a * b) as f64)
                .sum::<f64>(),
        );
        ys.push(h.quality);
    }
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let cov: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let vx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let vy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

/// Content vectors carry evidence of quality, weaker as the modality's noise grows; they are
/// public (in the observation) and the same on every world of the platform.
#[test]
fn content_vectors_correlate_with_quality_as_the_noise_says() {
    let w = content_world(0.5);
    let (mid, clean, noisy) = (
        quality_evidence(&w, 0),
        quality_evidence(&w, 1),
        quality_evidence(&w, 2),
    );
    assert!(clean > mid && mid > noisy, "{clean} {mid} {noisy}");
    assert!(clean > 0.3 && noisy < clean / 2.0, "{clean} {noisy}");
    let mut scenario = Scenario::builtin_default();
    scenario.params.streamers.count = 1_000;
    scenario.params.streamers.content_dim = 8;
    scenario.params.streamers.content_noise = vec![0.5, 0.0, 3.0];
    let other_viewers = World::with_viewer_seed(&scenario, 12, 99);
    assert_eq!(
        w.content, other_viewers.content,
        "content belongs to the platform"
    );
    let mut w = w;
    w.next_decision().unwrap();
    let i = *w.live().first().expect("something live");
    let o = w.observe();
    assert_eq!(o.content(i).len(), 24);
    assert_eq!(o.content(i), &w.content[i as usize * 24..][..24]);
}

/// What a recommendation and a watch read sits in the viewer's first two cache lines; the
/// fields read at session boundaries (and the demographic profile) in the third.
#[test]
fn the_viewer_state_keeps_what_every_step_reads_in_two_cache_lines() {
    use std::mem::offset_of;
    assert_eq!(std::mem::align_of::<ViewerState>(), 64);
    assert_eq!(std::mem::size_of::<ViewerState>(), 192);
    for (name, at, size) in [
        ("status", offset_of!(ViewerState, status), 8),
        ("session_steps", offset_of!(ViewerState, session_steps), 4),
        ("shown_at", offset_of!(ViewerState, shown_at), 8),
        ("watch_log_next", offset_of!(ViewerState, watch_log_next), 1),
        ("notified", offset_of!(ViewerState, notified), 4),
        (
            "watch_credit",
            offset_of!(ViewerState, watch_credit),
            std::mem::size_of::<WatchCredit>(),
        ),
    ] {
        assert!(at + size <= 128, "{name} ends at {}", at + size);
    }
    assert!(offset_of!(ViewerState, home_minute) >= 128);
}
