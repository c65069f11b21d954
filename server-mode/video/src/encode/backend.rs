//! Which H.264 encoder this machine can open: the hardware ones first (NVIDIA NVENC,
//! VA-API, Intel Quick Sync), then x264 in software. Each is tried by opening it and
//! encoding one frame; those without their hardware fail cleanly.

use serde::Serialize;

use super::H264Encoder;

/// FFmpeg's H.264 encoders, in the order they are tried.
pub const DEFAULT_ENCODERS: [&str; 4] = ["h264_nvenc", "h264_vaapi", "h264_qsv", "libx264"];
/// The size the probe encodes a frame at.
const PROBE_SIZE: [u32; 2] = [320, 240];
/// The bitrate the probe asks for (kbit/s).
const PROBE_KBPS: u32 = 500;

/// One encoder tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EncoderAttempt {
    /// FFmpeg's name of the encoder.
    pub encoder: String,
    /// Why it could not be used; `None` when it opened and encoded a frame.
    pub error: Option<String>,
}

/// What trying the encoders in order found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EncoderProbe {
    /// The first encoder that opened and encoded a frame.
    pub chosen: Option<String>,
    /// The encoders tried, in order, up to the chosen one.
    pub tried: Vec<EncoderAttempt>,
}

impl EncoderProbe {
    /// Why there is no H.264 here, when there is none: each encoder tried and its error.
    pub fn why_none(&self) -> Option<String> {
        if self.chosen.is_some() {
            return None;
        }
        if self.tried.is_empty() {
            return Some("H.264 is turned off on this server".to_string());
        }
        let reasons: Vec<String> = self
            .tried
            .iter()
            .map(|attempt| {
                format!(
                    "{}: {}",
                    attempt.encoder,
                    attempt.error.as_deref().unwrap_or("unusable")
                )
            })
            .collect();
        Some(format!("no H.264 encoder opened ({})", reasons.join("; ")))
    }
}

/// Tries `candidates` (FFmpeg encoder names) in order and stops at the first that opens
/// and encodes a frame. Takes a few milliseconds per encoder.
pub fn probe(candidates: &[String]) -> EncoderProbe {
    let mut tried = Vec::with_capacity(candidates.len());
    for name in candidates {
        let [width, height] = PROBE_SIZE;
        let result = H264Encoder::open(name, width, height, PROBE_KBPS).and_then(|mut encoder| {
            let grey = vec![128u8; width as usize * height as usize * 4];
            encoder.encode(&grey, width, height, true, std::time::Instant::now())
        });
        let error = result.err().map(|error| error.to_string());
        let opened = error.is_none();
        tracing::debug!(encoder = %name, ?error, "H.264 encoder probed");
        tried.push(EncoderAttempt {
            encoder: name.clone(),
            error,
        });
        if opened {
            return EncoderProbe {
                chosen: Some(name.clone()),
                tried,
            };
        }
    }
    EncoderProbe {
        chosen: None,
        tried,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x264_is_found_after_encoders_that_cannot_open() {
        let candidates = ["h264_no_such_encoder", "libx264"].map(str::to_string);
        let found = probe(&candidates);
        assert_eq!(found.chosen.as_deref(), Some("libx264"), "{found:?}");
        assert_eq!(found.tried.len(), 2);
        let missing = found.tried[0].error.as_deref().unwrap_or_default();
        assert!(
            missing.contains("no codec named h264_no_such_encoder"),
            "{missing}"
        );
        assert_eq!(found.why_none(), None);
    }

    #[test]
    fn without_an_encoder_the_reasons_are_named() {
        let found = probe(&["h264_no_such_encoder".to_string()]);
        assert_eq!(found.chosen, None);
        let why = found.why_none().unwrap_or_default();
        assert!(why.contains("h264_no_such_encoder"), "{why}");
        assert_eq!(
            probe(&[]).why_none().as_deref(),
            Some("H.264 is turned off on this server")
        );
    }
}
