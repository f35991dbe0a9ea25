//! The proofs one execution environment has accepted, each until its window closes: a
//! map for the question "seen?" and a queue in expiry order, so forgetting costs O(1)
//! per proof. Bounded: when full of proofs still in their window it says so, and the
//! guard fails closed rather than forget one early.

use std::collections::{HashMap, VecDeque};

use crate::token::UnixTime;

/// What [`Memory::record`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Not seen: now remembered.
    Fresh,
    /// Already remembered: a replay.
    Before,
    /// Not seen, and no room to remember it.
    Full,
}

/// Remembered proofs.
#[derive(Debug)]
pub struct Memory {
    // A keyed hash (SipHash, random per process), not the key's own bits: a client may
    // pick its `jti`s so that the SHA-256 of many of them share their low bits.
    seen: HashMap<[u8; 16], UnixTime>,
    order: VecDeque<(UnixTime, [u8; 16])>,
    capacity: usize,
}

impl Memory {
    /// Room for `capacity` proofs (allocated as they come).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Memory {
            seen: HashMap::default(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// Whether `key` is remembered at `now`.
    pub(crate) fn contains(&mut self, key: [u8; 16], now: UnixTime) -> bool {
        self.forget_expired(now);
        self.seen.contains_key(&key)
    }

    /// Remembers `key` until `until`, unless it already is or there is no room.
    pub fn record(&mut self, key: [u8; 16], until: UnixTime, now: UnixTime) -> Seen {
        self.forget_expired(now);
        if self.seen.contains_key(&key) {
            return Seen::Before;
        }
        if self.seen.len() >= self.capacity {
            return Seen::Full;
        }
        self.seen.insert(key, until);
        self.order.push_back((until, key));
        Seen::Fresh
    }

    /// How many proofs are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.seen.len()
    }

    fn forget_expired(&mut self, now: UnixTime) {
        while let Some(&(until, key)) = self.order.front()
            && until <= now
        {
            self.order.pop_front();
            if self.seen.get(&key) == Some(&until) {
                self.seen.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> [u8; 16] {
        let mut k = [0; 16];
        k[0] = n;
        k[15] = n;
        k
    }

    #[test]
    fn a_proof_is_accepted_once_within_its_window_and_forgotten_after() {
        let mut memory = Memory::new(4);
        assert_eq!(memory.record(key(1), 100.0, 40.0), Seen::Fresh);
        assert_eq!(memory.record(key(1), 101.0, 41.0), Seen::Before);
        assert!(memory.contains(key(1), 99.0));
        assert_eq!(memory.record(key(2), 102.0, 42.0), Seen::Fresh);
        // Past its window the first is forgotten (it would be refused as too old anyway).
        assert!(!memory.contains(key(1), 100.0));
        assert_eq!(memory.len(), 1);
        assert_eq!(memory.record(key(1), 160.0, 100.0), Seen::Fresh);
    }

    #[test]
    fn a_full_memory_says_so_and_makes_room_as_windows_close() {
        let mut memory = Memory::new(2);
        assert_eq!(memory.record(key(1), 10.0, 0.0), Seen::Fresh);
        assert_eq!(memory.record(key(2), 11.0, 0.0), Seen::Fresh);
        assert_eq!(memory.record(key(3), 12.0, 1.0), Seen::Full);
        assert_eq!(memory.record(key(1), 12.0, 1.0), Seen::Before);
        assert_eq!(memory.record(key(3), 20.0, 10.0), Seen::Fresh);
        assert_eq!(memory.len(), 2);
    }
}
