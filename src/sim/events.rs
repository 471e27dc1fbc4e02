//! The event queue that drives the one shared clock: viewers waking up (session start, end of a
//! watch, after a skip), streams starting and ending, and midnight.

use std::cmp::Ordering;

use std::collections::VecDeque;

use dary_heap::QuaternaryHeap;

/// What happens at an event. The order of the variants breaks ties at equal times: a viewer whose
/// watch ends exactly when the stream ends leaves before the stream goes offline, and a stream
/// goes offline before anyone asks for a recommendation at that instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Midnight,
    WatchEnd,
    StreamEnd,
    StreamStart,
    ViewerWake,
}

/// An event. Times are never negative, so the bits of the time order like the time itself;
/// `order` packs the kind (top byte) and the insertion number, so one integer breaks ties.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    pub time: f64,
    order: u64,
    pub id: u32,
}

impl Event {
    pub fn kind(&self) -> Kind {
        match self.order >> 56 {
            0 => Kind::Midnight,
            1 => Kind::WatchEnd,
            2 => Kind::StreamEnd,
            3 => Kind::StreamStart,
            _ => Kind::ViewerWake,
        }
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Reversed, so that `BinaryHeap` pops the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time.to_bits(), other.order).cmp(&(self.time.to_bits(), self.order))
    }
}

/// Width of a calendar bucket, minutes.
const BUCKET: f64 = 60.0;

/// A min-queue of events with deterministic tie-breaking (time, kind, insertion order).
///
/// Two levels: events due before `frontier` sit in a 4-ary heap; later ones wait in hourly
/// calendar buckets and move into the heap when the clock reaches their hour. Most viewers are
/// between sessions, hours or days ahead, so the heap stays small (the viewers online now) and
/// its cost does not grow with the population. The pop order is exactly that of one heap.
#[derive(Debug, Clone)]
pub struct Queue {
    heap: QuaternaryHeap<Event>,
    buckets: VecDeque<Vec<Event>>,
    frontier: f64,
    seq: u64,
}

impl Default for Queue {
    fn default() -> Self {
        Queue::with_capacity(0)
    }
}

impl Queue {
    pub fn with_capacity(n: usize) -> Self {
        Queue {
            heap: QuaternaryHeap::with_capacity(n.min(1 << 16)),
            buckets: VecDeque::new(),
            frontier: BUCKET,
            seq: 0,
        }
    }

    /// Schedules an event; `time` must not be negative.
    pub fn push(&mut self, time: f64, kind: Kind, id: u32) {
        debug_assert!(time >= 0.0, "event time {time} is negative");
        self.seq += 1;
        let ev = Event {
            time: time.max(0.0),
            order: ((kind as u64) << 56) | self.seq,
            id,
        };
        if ev.time < self.frontier {
            self.heap.push(ev);
        } else {
            let i = ((ev.time - self.frontier) / BUCKET) as usize;
            if i >= self.buckets.len() {
                self.buckets.resize_with(i + 1, Vec::new);
            }
            self.buckets[i].push(ev);
        }
    }

    pub fn pop(&mut self) -> Option<Event> {
        loop {
            if let Some(top) = self.heap.peek()
                && (top.time < self.frontier || self.buckets.is_empty())
            {
                return self.heap.pop();
            }
            let next = self.buckets.pop_front()?;
            self.frontier += BUCKET;
            self.heap.extend(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_kind_then_insertion_order() {
        let mut q = Queue::default();
        q.push(5.0, Kind::ViewerWake, 1);
        q.push(5.0, Kind::StreamEnd, 2);
        q.push(1.0, Kind::ViewerWake, 3);
        q.push(5.0, Kind::WatchEnd, 4);
        q.push(5.0, Kind::ViewerWake, 5);
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.id).collect();
        assert_eq!(order, [3, 4, 2, 1, 5]);
    }

    #[test]
    fn calendar_buckets_pop_in_the_same_order_as_one_heap() {
        let mut q = Queue::default();
        let mut heap = std::collections::BinaryHeap::new();
        let mut rng = crate::sim::random::stream(3, 3);
        let mut now = 0.0;
        for round in 0..20_000u32 {
            // Mostly near events, some days ahead, some at the same instant.
            let dt = match round % 5 {
                0 => 0.0,
                1 => 3.0 * 1440.0 * crate::sim::random::uniform(&mut rng),
                _ => 90.0 * crate::sim::random::uniform(&mut rng),
            };
            q.push(now + dt, Kind::ViewerWake, round);
            heap.push(std::cmp::Reverse(((now + dt).to_bits(), round)));
            if round % 2 == 1 {
                let a = q.pop().unwrap();
                let std::cmp::Reverse((t, id)) = heap.pop().unwrap();
                assert_eq!((a.time.to_bits(), a.id), (t, id));
                now = a.time;
            }
        }
        while let Some(std::cmp::Reverse((t, id))) = heap.pop() {
            let a = q.pop().unwrap();
            assert_eq!((a.time.to_bits(), a.id), (t, id));
        }
        assert!(q.pop().is_none());
    }
}
