//! The H.264 bitrate of a session. Each view size has a nominal bitrate, meant for
//! pictures drawn at a quarter of the view's sides ([`NOMINAL_SIDES`]: what a software
//! renderer draws while dragging; interactive frames go at the renderer's internal
//! resolution and the client scales them up). A picture drawn larger gets more, in
//! proportion to its sides, up to [`MOST_OVER_NOMINAL`] times nominal at full resolution
//! ([`Bitrate::for_picture`]): a GPU draws every frame at full resolution, and there the
//! codec, not the renderer, decides how close a frame comes to the sharp image.
//! Measured on the CT of `bench stream` at 1024×768, 30 frames a second turning 5° each,
//! over the volume against the sharp image of each view: pictures at a quarter of the
//! sides come within 0.15 dB of the render at nominal (1.73 Mbit/s) and lose 0.3 dB at
//! half of it; at half the sides, nominal loses 1.4 dB and twice nominal 0.55 dB; at full
//! resolution (the render alone at 34.3 dB), nominal gives 26.6 dB, twice 29.1, three
//! times 30.5 and four times 31.3 (x264's slower presets gain 0.2–0.35 dB: the bits are
//! what counts).
//! On that CT drawn at 0.35 of the view's sides, x264's frames at nominal come 4 dB above
//! JPEG quality 60 sent as drawn too (PSNR over the view) for about its bytes, reach
//! JPEG's PSNR with 0.56 of its bytes, and JPEG needs 1.5 times H.264's bytes for H.264's
//! PSNR (`hounsfield bench stream --codec h264,jpeg` measures all of these).
//! When the client's reports show frames piling up before its decoder or latency
//! climbing, the target drops, and it climbs back towards nominal (never above) once they
//! recover. Over WebRTC the network's own estimate joins in: the bandwidth the sender's
//! congestion control (TWCC, or the receiver's REMB) finds the path carries is a ceiling
//! every picture's bitrate keeps under, whatever the reports say.

use std::time::{Duration, Instant};

use hounsfield_protocol::ClientStats;

/// Nominal bits per pixel per second (1280×720: about 2 Mbit/s).
pub const NOMINAL_BITS_PER_PIXEL_S: f64 = 2.2;
/// The lowest and highest nominal bitrates (kbit/s), whatever the size.
pub const NOMINAL_KBPS: (f64, f64) = (300.0, 20_000.0);
/// How far below nominal the target may go.
pub const FLOOR_SHARE: f64 = 0.25;
/// Frames waiting in the client's decoder above which it is falling behind.
pub const QUEUE_LIMIT: u32 = 2;
/// Factor a congested report applies, at most once every [`DECREASE_EVERY`].
const DECREASE: f64 = 0.7;
const DECREASE_EVERY: Duration = Duration::from_millis(500);
/// Factor a healthy report applies, at most once every [`INCREASE_EVERY`].
const INCREASE: f64 = 1.15;
const INCREASE_EVERY: Duration = Duration::from_secs(2);
/// Share of the gap by which the latency baseline follows a higher latency per report
/// (so a baseline from a lucky moment does not hold forever).
const BASELINE_DRIFT: f64 = 0.05;
/// Share of the network's estimate the video may take (the rest: retransmissions, the
/// data channel, RTP and SRTP overhead).
pub const NETWORK_SHARE: f64 = 0.85;
/// The lowest bitrate a network estimate may bring the target to (kbit/s): below it the
/// picture is not worth sending, and the estimate recovers faster with some traffic.
pub const NETWORK_FLOOR_KBPS: f64 = 150.0;

/// The share of the view's sides a picture is drawn at that the nominal bitrate is meant
/// for; pictures drawn smaller get nominal too.
pub const NOMINAL_SIDES: f64 = 0.25;
/// The most a picture's bitrate may be over its target: a picture at full resolution
/// ([`NOMINAL_SIDES`] × 4).
pub const MOST_OVER_NOMINAL: f64 = 4.0;

/// A session's bitrate as a frame is asked for, before the picture's size is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bitrate {
    /// The rate control's target for a picture drawn at [`NOMINAL_SIDES`] of the view's
    /// sides (kbit/s).
    pub target_kbps: u32,
    /// The most the network carries for the video (kbit/s): over WebRTC with an estimate.
    pub ceiling_kbps: Option<u32>,
}

impl Bitrate {
    /// A target of `kbps` without a network ceiling.
    pub fn at(kbps: u32) -> Self {
        Self {
            target_kbps: kbps,
            ceiling_kbps: None,
        }
    }

    /// How many times the target a picture of `picture` pixels shown at `view` gets: its
    /// sides' share of the view's over [`NOMINAL_SIDES`], from 1 to [`MOST_OVER_NOMINAL`]
    /// (1 for a view without pixels).
    pub fn picture_factor(picture: [u32; 2], view: [u32; 2]) -> f64 {
        let area = |size: [u32; 2]| f64::from(size[0]) * f64::from(size[1]);
        if area(view) == 0.0 {
            return 1.0;
        }
        let sides = (area(picture) / area(view)).sqrt();
        (sides / NOMINAL_SIDES).clamp(1.0, MOST_OVER_NOMINAL)
    }

    /// The bitrate of a picture of `picture` pixels shown at `view` (kbit/s): the target
    /// times [`Self::picture_factor`], under the network's ceiling and the highest
    /// nominal bitrate.
    pub fn for_picture(self, picture: [u32; 2], view: [u32; 2]) -> u32 {
        let target = f64::from(self.target_kbps);
        let kbps = (target * Self::picture_factor(picture, view)).min(NOMINAL_KBPS.1.max(target));
        self.under_ceiling(kbps.round() as u32)
    }

    /// The bitrate of a picture at [`NOMINAL_SIDES`] or smaller (kbit/s): the target,
    /// under the network's ceiling.
    pub fn for_nominal_picture(self) -> u32 {
        self.under_ceiling(self.target_kbps)
    }

    fn under_ceiling(self, kbps: u32) -> u32 {
        self.ceiling_kbps.map_or(kbps, |ceiling| kbps.min(ceiling))
    }
}

/// A session's target bitrate.
#[derive(Debug, Clone, PartialEq)]
pub struct RateControl {
    nominal_kbps: f64,
    target_kbps: f64,
    /// The lowest latency reported, drifting up slowly.
    baseline_ms: Option<f64>,
    last_change: Option<Instant>,
    /// The network's estimate of the bandwidth to the client (kbit/s), over WebRTC.
    network_kbps: Option<f64>,
}

impl RateControl {
    /// At the nominal bitrate of frames of `size`.
    pub fn new(size: [u32; 2]) -> Self {
        let nominal_kbps = nominal_kbps(size);
        Self {
            nominal_kbps,
            target_kbps: nominal_kbps,
            baseline_ms: None,
            last_change: None,
            network_kbps: None,
        }
    }

    /// The bitrate to encode a picture at [`NOMINAL_SIDES`] at now (kbit/s): the reports'
    /// target, under the network's ceiling when there is an estimate.
    pub fn target_kbps(&self) -> u32 {
        self.bitrate().for_nominal_picture()
    }

    /// The reports' target and the network's ceiling, for a frame to be encoded.
    pub fn bitrate(&self) -> Bitrate {
        Bitrate {
            target_kbps: self.target_kbps.round() as u32,
            ceiling_kbps: self
                .network_kbps
                .map(|network| (network * NETWORK_SHARE).max(NETWORK_FLOOR_KBPS).round() as u32),
        }
    }

    /// The network's estimate of the bandwidth to the client (kbit/s), when there is one.
    pub fn network_kbps(&self) -> Option<u32> {
        self.network_kbps.map(|kbps| kbps.round() as u32)
    }

    /// Takes the network's estimate of the bandwidth to the client (kbit/s); `None` when
    /// there is none any more (the frames left WebRTC). Nonsense is ignored.
    pub fn on_network_estimate(&mut self, kbps: Option<f64>) {
        match kbps {
            Some(kbps) if kbps.is_finite() && kbps > 0.0 => self.network_kbps = Some(kbps),
            Some(_) => {}
            None => self.network_kbps = None,
        }
    }

    /// The nominal bitrate of the current size (kbit/s).
    pub fn nominal_kbps(&self) -> u32 {
        self.nominal_kbps.round() as u32
    }

    /// A new frame size: the target keeps its share of the nominal bitrate.
    pub fn resize(&mut self, size: [u32; 2]) {
        let share = self.target_kbps / self.nominal_kbps;
        self.nominal_kbps = nominal_kbps(size);
        self.target_kbps = self.nominal_kbps * share;
    }

    /// Takes a client's report: lowers the target when it falls behind, raises it
    /// towards nominal when it keeps up.
    pub fn on_report(&mut self, stats: &ClientStats, now: Instant) {
        let latency = stats.latency_ms.filter(|ms| ms.is_finite() && *ms >= 0.0);
        if let Some(latency) = latency {
            self.baseline_ms = Some(match self.baseline_ms {
                Some(base) if latency >= base => base + (latency - base) * BASELINE_DRIFT,
                _ => latency,
            });
        }
        let base = self.baseline_ms.unwrap_or(0.0);
        let late = latency.is_some_and(|ms| ms > base * 2.0 + 50.0);
        let prompt = latency.is_none_or(|ms| ms <= base * 1.25 + 25.0);
        let since_change = self
            .last_change
            .map_or(Duration::MAX, |at| now.saturating_duration_since(at));
        let factor = if stats.decode_queue > QUEUE_LIMIT || late {
            (since_change >= DECREASE_EVERY).then_some(DECREASE)
        } else if stats.decode_queue <= 1 && prompt && self.target_kbps < self.nominal_kbps {
            (since_change >= INCREASE_EVERY).then_some(INCREASE)
        } else {
            None
        };
        if let Some(factor) = factor {
            let floor = self.nominal_kbps * FLOOR_SHARE;
            self.target_kbps = (self.target_kbps * factor).clamp(floor, self.nominal_kbps);
            self.last_change = Some(now);
        }
    }
}

/// The nominal bitrate of frames of `size` (kbit/s).
fn nominal_kbps(size: [u32; 2]) -> f64 {
    let pixels = f64::from(size[0]) * f64::from(size[1]);
    (pixels * NOMINAL_BITS_PER_PIXEL_S / 1000.0).clamp(NOMINAL_KBPS.0, NOMINAL_KBPS.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(decode_queue: u32, latency_ms: f64) -> ClientStats {
        ClientStats {
            decode_queue,
            latency_ms: Some(latency_ms),
        }
    }

    #[test]
    fn the_nominal_bitrate_follows_the_frame_size_within_bounds() {
        assert_eq!(RateControl::new([1280, 720]).target_kbps(), 2028);
        assert_eq!(RateControl::new([64, 48]).target_kbps(), 300);
        assert_eq!(RateControl::new([4096, 4096]).target_kbps(), 20_000);
    }

    #[test]
    fn a_picture_drawn_larger_than_a_quarter_of_the_sides_gets_more_up_to_four_times() {
        let view = [1024, 768];
        let rate = RateControl::new(view);
        let bitrate = rate.bitrate();
        let nominal = rate.target_kbps();
        assert_eq!(bitrate.for_nominal_picture(), nominal);
        assert_eq!(bitrate.for_picture([256, 192], view), nominal, "a quarter");
        assert_eq!(
            bitrate.for_picture([128, 96], view),
            nominal,
            "smaller: nominal"
        );
        assert_eq!(bitrate.for_picture([512, 384], view), nominal * 2, "half");
        assert_eq!(
            bitrate.for_picture(view, view),
            nominal * 4,
            "full resolution"
        );
        assert_eq!(
            bitrate.for_picture([4096, 3072], view),
            nominal * 4,
            "never past four times"
        );
        // 1920×1080 at full resolution: 4.56 Mbit/s nominal, four times that is 18.2.
        let wide = RateControl::new([1920, 1080]).bitrate();
        assert_eq!(wide.for_picture([1920, 1080], [1920, 1080]), 4562 * 4);
        // A 4K view's nominal is the highest already: no picture goes above it.
        let huge = RateControl::new([4096, 4096]).bitrate();
        assert_eq!(huge.for_picture([4096, 4096], [4096, 4096]), 20_000);
        // The network's ceiling holds over every picture.
        let mut rate = RateControl::new(view);
        rate.on_network_estimate(Some(3000.0));
        let capped = rate.bitrate();
        assert_eq!(capped.for_picture(view, view), 2550);
        assert_eq!(capped.for_nominal_picture(), nominal.min(2550));
        assert_eq!(
            Bitrate::at(500).for_picture([0, 0], [0, 0]),
            500,
            "no pixels: the target"
        );
    }

    #[test]
    fn a_lagging_client_lowers_the_bitrate_to_the_floor_and_a_prompt_one_restores_it() {
        let mut rate = RateControl::new([1280, 720]);
        let nominal = rate.target_kbps();
        let start = Instant::now();
        let at = |s: f64| start + Duration::from_secs_f64(s);
        rate.on_report(&report(0, 40.0), at(0.0));
        assert_eq!(rate.target_kbps(), nominal, "prompt at nominal: unchanged");
        rate.on_report(&report(5, 40.0), at(1.0));
        let lowered = rate.target_kbps();
        assert!(lowered < nominal, "{lowered} after a deep decode queue");
        rate.on_report(&report(5, 40.0), at(1.2));
        assert_eq!(
            rate.target_kbps(),
            lowered,
            "at most one step per half second"
        );
        rate.on_report(&report(0, 400.0), at(2.0));
        assert!(
            rate.target_kbps() < lowered,
            "latency far above the baseline"
        );
        for n in 0..20 {
            rate.on_report(&report(6, 40.0), at(3.0 + f64::from(n)));
        }
        assert_eq!(
            rate.target_kbps(),
            (f64::from(nominal) * FLOOR_SHARE).round() as u32
        );
        let mut last = rate.target_kbps();
        for n in 0..30 {
            rate.on_report(&report(0, 40.0), at(30.0 + f64::from(n)));
            assert!(rate.target_kbps() >= last);
            last = rate.target_kbps();
        }
        assert_eq!(rate.target_kbps(), nominal, "back to nominal, not above");
    }

    #[test]
    fn the_network_estimate_caps_the_target_and_its_end_lifts_the_cap() {
        let mut rate = RateControl::new([1280, 720]);
        let nominal = rate.target_kbps();
        rate.on_network_estimate(Some(1000.0));
        assert_eq!(
            rate.target_kbps(),
            (1000.0 * NETWORK_SHARE).round() as u32,
            "under the path's bandwidth, with room for overhead"
        );
        rate.on_network_estimate(Some(10.0));
        assert_eq!(
            rate.target_kbps(),
            NETWORK_FLOOR_KBPS as u32,
            "not below the floor"
        );
        rate.on_network_estimate(Some(f64::NAN));
        assert_eq!(
            rate.target_kbps(),
            NETWORK_FLOOR_KBPS as u32,
            "nonsense ignored"
        );
        rate.on_network_estimate(Some(50_000.0));
        assert_eq!(
            rate.target_kbps(),
            nominal,
            "a wide path: nominal, not above"
        );
        // The reports still lower the target under a wide path.
        rate.on_report(&report(9, 10.0), Instant::now());
        let lowered = rate.target_kbps();
        assert!(lowered < nominal, "{lowered}");
        rate.on_network_estimate(Some(1000.0));
        rate.on_network_estimate(None);
        assert_eq!(
            rate.target_kbps(),
            lowered,
            "the cap is gone with the estimate"
        );
    }

    #[test]
    fn a_resize_keeps_the_share_of_nominal() {
        let mut rate = RateControl::new([1280, 720]);
        rate.on_report(&report(9, 10.0), Instant::now());
        let share = f64::from(rate.target_kbps()) / f64::from(rate.nominal_kbps());
        rate.resize([640, 360]);
        assert_eq!(rate.nominal_kbps(), 507);
        let after = f64::from(rate.target_kbps()) / f64::from(rate.nominal_kbps());
        assert!((share - after).abs() < 0.01, "{share} {after}");
    }

    #[test]
    fn reports_without_latency_or_with_nonsense_count_by_queue_alone() {
        let mut rate = RateControl::new([640, 480]);
        let nominal = rate.target_kbps();
        let now = Instant::now();
        rate.on_report(
            &ClientStats {
                decode_queue: 0,
                latency_ms: Some(f64::NAN),
            },
            now,
        );
        assert_eq!(rate.target_kbps(), nominal);
        rate.on_report(&ClientStats::default(), now);
        assert_eq!(rate.target_kbps(), nominal);
    }
}
