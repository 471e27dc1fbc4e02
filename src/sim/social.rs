//! The social graph: who follows which streamer, and who is friends with whom.
//!
//! Follows are viewer → streamer-slot edges created by follow events, at most `max_follows` per
//! viewer; they belong to the slot's current streamer, so a new streamer taking the slot starts
//! with none, and a viewer who churns drops theirs. Friendships are undirected edges between
//! viewer slots drawn once, at the world's birth, with a share of them inside the same
//! demographic group (region and age band): a newcomer in a churned slot joins the same circle.
//! Lookups are per viewer and cost O(follows) or O(friends), never O(viewers).

use super::observation::Demographics;
use super::random::{self, Rng};

/// Follow edges in both directions and the friendship lists.
#[derive(Debug, Clone, Default)]
pub struct Social {
    max_follows: usize,
    /// Followed slots, `max_follows` per viewer, the first `follow_len[v]` in use.
    follows: Vec<u32>,
    follow_len: Vec<u8>,
    /// Per streamer slot, the viewers who follow its current streamer.
    followers: Vec<Vec<u32>>,
    /// Friends of viewer `v`: `friends[offsets[v]..offsets[v + 1]]`.
    offsets: Vec<u32>,
    friends: Vec<u32>,
}

impl Social {
    /// No follows yet and the friendships of `demographics` (one entry per viewer slot): each
    /// viewer starts about `friends_mean / 2` friendships (so the mean degree is about
    /// `friends_mean`), a share `homophily` of them with someone of the same region and age band.
    pub fn new(
        streamers: usize,
        max_follows: usize,
        demographics: &[Demographics],
        friends_mean: f64,
        homophily: f64,
        rng: &mut Rng,
    ) -> Social {
        let m = demographics.len();
        let mut s = Social {
            max_follows,
            follows: vec![0; m * max_follows],
            follow_len: vec![0; m],
            followers: vec![Vec::new(); streamers],
            offsets: vec![0; m + 1],
            friends: Vec::new(),
        };
        if friends_mean > 0.0 && m > 1 {
            s.draw_friends(demographics, friends_mean, homophily, rng);
        }
        s
    }

    fn draw_friends(&mut self, d: &[Demographics], mean: f64, homophily: f64, rng: &mut Rng) {
        let m = d.len();
        let group = |x: &Demographics| x.region as usize * 8 + x.age_band as usize;
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); 8 * 16];
        for (v, x) in d.iter().enumerate() {
            members[group(x)].push(v as u32);
        }
        let mut edges: Vec<(u32, u32)> = Vec::new();
        for v in 0..m as u32 {
            for _ in 0..random::poisson(rng, mean / 2.0) {
                let same = &members[group(&d[v as usize])];
                let w = if random::uniform(rng) < homophily && same.len() > 1 {
                    same[random::below(rng, same.len())]
                } else {
                    random::below(rng, m) as u32
                };
                if w != v {
                    edges.push((v, w));
                    edges.push((w, v));
                }
            }
        }
        edges.sort_unstable();
        edges.dedup();
        self.friends = edges.iter().map(|&(_, w)| w).collect();
        let mut at = 0usize;
        for v in 0..m {
            self.offsets[v] = at as u32;
            while at < edges.len() && edges[at].0 as usize == v {
                at += 1;
            }
        }
        self.offsets[m] = at as u32;
    }

    /// The streamer slots viewer `v` follows.
    pub fn follows(&self, v: u32) -> &[u32] {
        let start = v as usize * self.max_follows;
        &self.follows[start..start + self.follow_len[v as usize] as usize]
    }

    /// Whether viewer `v` follows slot `i`'s current streamer.
    pub fn is_following(&self, v: u32, i: u32) -> bool {
        self.follows(v).contains(&i)
    }

    /// Whether viewer `v` may follow slot `i`: not already following it, and below the cap.
    pub fn can_follow(&self, v: u32, i: u32) -> bool {
        (self.follow_len[v as usize] as usize) < self.max_follows && !self.is_following(v, i)
    }

    /// Viewer `v` follows slot `i`; false (and nothing changes) when it already does or
    /// follows as many streamers as it may.
    pub fn follow(&mut self, v: u32, i: u32) -> bool {
        let n = self.follow_len[v as usize] as usize;
        if !self.can_follow(v, i) {
            return false;
        }
        self.follows[v as usize * self.max_follows + n] = i;
        self.follow_len[v as usize] += 1;
        self.followers[i as usize].push(v);
        true
    }

    /// The viewers who follow slot `i`'s current streamer (none before the graph is built).
    pub fn followers(&self, i: u32) -> &[u32] {
        self.followers.get(i as usize).map_or(&[], |f| f)
    }

    /// A new streamer took slot `i`: nobody follows it yet.
    pub fn streamer_replaced(&mut self, i: u32) {
        for v in std::mem::take(&mut self.followers[i as usize]) {
            self.unlist(v, i);
        }
    }

    /// Viewer slot `v` is taken by a newcomer: the old viewer's follows go with it.
    pub fn viewer_replaced(&mut self, v: u32) {
        let n = self.follow_len[v as usize] as usize;
        let start = v as usize * self.max_follows;
        for k in 0..n {
            let i = self.follows[start + k] as usize;
            self.followers[i].retain(|&f| f != v);
        }
        self.follow_len[v as usize] = 0;
    }

    fn unlist(&mut self, v: u32, i: u32) {
        let start = v as usize * self.max_follows;
        let n = self.follow_len[v as usize] as usize;
        let list = &mut self.follows[start..start + n];
        if let Some(k) = list.iter().position(|&x| x == i) {
            list[k] = list[n - 1];
            self.follow_len[v as usize] -= 1;
        }
    }

    /// Viewer `v`'s friends.
    pub fn friends(&self, v: u32) -> &[u32] {
        match self.offsets.get(v as usize + 1) {
            Some(&end) => &self.friends[self.offsets[v as usize] as usize..end as usize],
            None => &[],
        }
    }

    /// Whether anyone has a friend (when nobody does, per-decision friend counts are skipped).
    pub fn has_friends(&self) -> bool {
        !self.friends.is_empty()
    }

    /// Bytes held, for the memory benchmark.
    pub fn bytes(&self) -> usize {
        self.follows.len() * 4
            + self.follow_len.len()
            + self
                .followers
                .iter()
                .map(|f| f.capacity() * 4 + 24)
                .sum::<usize>()
            + self.offsets.len() * 4
            + self.friends.len() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people(n: usize, regions: u8) -> Vec<Demographics> {
        (0..n)
            .map(|v| Demographics {
                region: (v % regions as usize) as u8,
                age_band: ((v / regions as usize) % 5) as u8,
                ..Demographics::default()
            })
            .collect()
    }

    #[test]
    fn follows_are_capped_unique_and_leave_with_the_streamer_or_the_viewer() {
        let mut s = Social::new(4, 2, &people(3, 1), 0.0, 0.0, &mut random::stream(1, 1));
        assert!(s.follow(0, 1));
        assert!(
            !s.follow(0, 1),
            "a second follow of the same streamer is not an edge"
        );
        assert!(s.follow(0, 2));
        assert!(!s.follow(0, 3), "capped at max_follows");
        assert!(s.follow(1, 2));
        assert_eq!(s.followers(2), [0, 1]);
        s.streamer_replaced(2);
        assert_eq!(s.follows(0), [1]);
        assert!(s.follows(1).is_empty());
        assert!(s.followers(2).is_empty());
        assert!(s.follow(0, 3), "room again");
        s.viewer_replaced(0);
        assert!(s.follows(0).is_empty());
        assert!(s.followers(1).is_empty() && s.followers(3).is_empty());
    }

    #[test]
    fn friendships_are_mutual_have_the_configured_degree_and_homophily() {
        let d = people(4_000, 4);
        let s = Social::new(1, 1, &d, 10.0, 0.8, &mut random::stream(2, 2));
        let mut same = 0usize;
        for v in 0..d.len() as u32 {
            for &w in s.friends(v) {
                assert_ne!(v, w);
                assert!(s.friends(w).contains(&v), "friendship is mutual");
                same += (d[v as usize].region == d[w as usize].region
                    && d[v as usize].age_band == d[w as usize].age_band)
                    as usize;
            }
        }
        let degree = s.friends.len() as f64 / d.len() as f64;
        assert!((degree - 10.0).abs() < 0.5, "mean degree {degree}");
        // 80% inside the group, plus the random ones that land there by chance (1 in 20).
        let share = same as f64 / s.friends.len() as f64;
        assert!(
            (share - (0.8 + 0.2 / 20.0)).abs() < 0.03,
            "same-group share {share}"
        );
        let none = Social::new(1, 1, &d, 0.0, 0.8, &mut random::stream(2, 2));
        assert!(!none.has_friends() && none.friends(7).is_empty());
    }
}
