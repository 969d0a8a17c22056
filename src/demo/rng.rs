//! A small deterministic random number generator (SplitMix64), so a seed always gives the same
//! world on every platform and build, without a dependency.

/// SplitMix64: a 64-bit state stepped by a fixed odd constant and mixed on output.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// A generator for one part of the world (`stream`), independent of how much randomness the
    /// other parts drew: changing how customers are generated leaves the feed of each unchanged.
    pub fn derive(seed: u64, stream: u64, index: u64) -> Self {
        let mut mixer = SplitMix64::new(seed ^ stream.rotate_left(32));
        let base = mixer.next_u64();
        SplitMix64::new(base ^ index.wrapping_mul(0xD6E8_FEB8_6659_FD93))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Multiply-shift keeps the bias below 2^-64 · n, far under anything a demo can notice.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An index chosen with the given weights (all zero: the first).
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut roll = self.below(total);
        for (index, &w) in weights.iter().enumerate() {
            if roll < w {
                return index;
            }
            roll -= w;
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    #[test]
    fn the_reference_sequence_of_splitmix64() {
        // The first outputs for seed 1234567 of the reference implementation (Vigna, 2015).
        let mut rng = SplitMix64::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn below_stays_in_range_and_derive_separates_streams() {
        let mut rng = SplitMix64::new(7);
        assert!((0..1000).all(|_| rng.below(6) < 6));
        let a = SplitMix64::derive(7, 1, 0).next_u64();
        let b = SplitMix64::derive(7, 2, 0).next_u64();
        let c = SplitMix64::derive(7, 1, 1).next_u64();
        assert!(a != b && a != c && b != c);
    }
}
