//! A stereo room reverb after Jezar's Freeverb: eight damped feedback combs in parallel and
//! four all-passes in series per channel, the right channel's delays a little longer so the
//! two decorrelate. Each stem gets its own, so the stems still sum to the mixture.

/// Comb and all-pass delays in samples at 44.1 kHz (Freeverb's tuning).
const COMBS: [usize; 8] = [1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617];
const ALLPASSES: [usize; 4] = [556, 441, 341, 225];
/// Extra delay of the right channel's filters.
const SPREAD: usize = 23;
/// Input gain into the combs, so that eight of them in parallel stay near unit level.
const INPUT_GAIN: f32 = 0.015;

struct Comb {
    buf: Vec<f32>,
    i: usize,
    store: f32,
}

impl Comb {
    fn run(&mut self, x: f32, feedback: f32, damp: f32) -> f32 {
        let y = self.buf[self.i];
        self.store = y * (1.0 - damp) + self.store * damp;
        self.buf[self.i] = x + self.store * feedback;
        self.i = (self.i + 1) % self.buf.len();
        y
    }
}

struct AllPass {
    buf: Vec<f32>,
    i: usize,
}

impl AllPass {
    fn run(&mut self, x: f32) -> f32 {
        let b = self.buf[self.i];
        self.buf[self.i] = x + b * 0.5;
        self.i = (self.i + 1) % self.buf.len();
        b - x
    }
}

/// Room settings: `room` 0–1 sets the decay (feedback 0.7–0.98), `damp` 0–1 how fast highs
/// die, `wet` the reverberated level added to the dry signal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Room {
    /// Room size, 0–1.
    pub room: f32,
    /// High-frequency damping, 0–1.
    pub damp: f32,
    /// Wet level.
    pub wet: f32,
}

/// Adds `room`'s reverb of `left`/`right` (at `rate`) to them in place.
pub fn reverberate(left: &mut [f32], right: &mut [f32], rate: u32, room: Room) {
    let scale = |d: usize| ((d as f64 * rate as f64 / 44100.0) as usize).max(1);
    let channel = |extra: usize| {
        let combs: Vec<Comb> = COMBS
            .iter()
            .map(|&d| Comb {
                buf: vec![0.0; scale(d + extra)],
                i: 0,
                store: 0.0,
            })
            .collect();
        let passes: Vec<AllPass> = ALLPASSES
            .iter()
            .map(|&d| AllPass {
                buf: vec![0.0; scale(d + extra)],
                i: 0,
            })
            .collect();
        (combs, passes)
    };
    let (mut lc, mut la) = channel(0);
    let (mut rc, mut ra) = channel(SPREAD);
    let feedback = 0.7 + 0.28 * room.room;
    let damp = 0.4 * room.damp;
    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
        let x = (*l + *r) * INPUT_GAIN;
        let mut yl: f32 = lc.iter_mut().map(|c| c.run(x, feedback, damp)).sum();
        let mut yr: f32 = rc.iter_mut().map(|c| c.run(x, feedback, damp)).sum();
        for a in la.iter_mut() {
            yl = a.run(yl);
        }
        for a in ra.iter_mut() {
            yr = a.run(yr);
        }
        *l += room.wet * yl;
        *r += room.wet * yr;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_impulse_decays_into_a_stereo_tail_that_starts_after_the_first_comb() {
        let n = 44100;
        let (mut l, mut r) = (vec![0f32; n], vec![0f32; n]);
        l[0] = 1.0;
        r[0] = 1.0;
        let room = Room {
            room: 0.8,
            damp: 0.5,
            wet: 1.0,
        };
        reverberate(&mut l, &mut r, 44100, room);
        // Nothing before the shortest comb's delay, a tail after it.
        assert!(l[1..1116].iter().all(|&v| v == 0.0));
        let energy = |x: &[f32]| x.iter().map(|v| v * v).sum::<f32>();
        assert!(energy(&l[1116..11025]) > 0.0);
        // It decays: the last quarter second holds far less than the first.
        assert!(energy(&l[33075..]) < 0.1 * energy(&l[1116..11025]));
        // The channels differ (decorrelated tails).
        assert!(l[2000..4000] != r[2000..4000]);
        assert!(l.iter().chain(&r).all(|v| v.is_finite()));
    }
}
