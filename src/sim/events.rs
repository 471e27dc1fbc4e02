//! The event queue that drives the one shared clock: viewers waking up (session start, end of a
//! watch, after a skip), streams starting and ending, and midnight.

use std::cmp::Ordering;

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

/// A min-queue of events (a 4-ary heap: shallower than a binary one, fewer cache misses) with deterministic tie-breaking (time, kind, insertion order).
#[derive(Debug, Default, Clone)]
pub struct Queue {
    heap: QuaternaryHeap<Event>,
    seq: u64,
}

impl Queue {
    pub fn with_capacity(n: usize) -> Self {
        Queue {
            heap: QuaternaryHeap::with_capacity(n),
            seq: 0,
        }
    }
    /// Schedules an event; `time` must not be negative.
    pub fn push(&mut self, time: f64, kind: Kind, id: u32) {
        debug_assert!(time >= 0.0, "event time {time} is negative");
        self.seq += 1;
        self.heap.push(Event {
            time: time.max(0.0),
            order: ((kind as u64) << 56) | self.seq,
            id,
        });
    }
    pub fn pop(&mut self) -> Option<Event> {
        self.heap.pop()
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
}
