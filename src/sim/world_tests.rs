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
        hb.appeal = 0.5 * hb.appeal;
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
