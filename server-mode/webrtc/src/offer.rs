//! A client's SDP offer, checked before the WebRTC stack reads it: bounded in size and in
//! lines, exactly one video section that can receive H.264 constrained baseline with
//! packetization-mode 1 (what the session's encoder sends), at most one data-channel
//! section, nothing else. Candidate lines are taken out: the server is ICE-lite and learns
//! the client's address from its checks, so a browser's `.local` names never reach the
//! parser.

/// The largest offer read (a browser's is 4 to 8 KiB).
pub const MAX_OFFER_BYTES: usize = 16 << 10;
/// The most lines an offer may have.
const MAX_LINES: usize = 400;

/// Why an offer was refused; each names what is wrong, to be sent back to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfferError {
    /// Over [`MAX_OFFER_BYTES`] or [`MAX_LINES`].
    #[error(
        "the offer is too large ({bytes} bytes, {lines} lines; at most {MAX_OFFER_BYTES} bytes and {MAX_LINES} lines)"
    )]
    TooLarge {
        /// Its size.
        bytes: usize,
        /// Its lines.
        lines: usize,
    },
    /// Not SDP: the first line is not `v=0`.
    #[error("the offer is not SDP (it must begin with v=0)")]
    NotSdp,
    /// A media section other than one video and one data channel.
    #[error("the offer has {what}: expected one video section and at most one data channel")]
    Sections {
        /// What was found.
        what: String,
    },
    /// The video section cannot receive what the encoder sends.
    #[error(
        "the offer's video cannot receive H.264 constrained baseline with packetization-mode 1"
    )]
    NoH264,
}

/// An offer fit for the WebRTC stack, its candidate lines taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedOffer {
    /// The SDP, lines ending in CRLF.
    pub sdp: String,
    /// Whether the client offers a data channel (for its input).
    pub data_channel: bool,
}

/// Checks `sdp` (see the module's documentation).
pub fn check_offer(sdp: &str) -> Result<CheckedOffer, OfferError> {
    let lines: Vec<&str> = sdp
        .lines()
        .map(|line| line.trim_end_matches('\r'))
        .collect();
    if sdp.len() > MAX_OFFER_BYTES || lines.len() > MAX_LINES {
        return Err(OfferError::TooLarge {
            bytes: sdp.len(),
            lines: lines.len(),
        });
    }
    if lines.first() != Some(&"v=0") {
        return Err(OfferError::NotSdp);
    }
    let sections = media_sections(&lines);
    let videos: Vec<&Section<'_>> = sections.iter().filter(|s| s.kind == "video").collect();
    let channels = sections.iter().filter(|s| s.kind == "application").count();
    let others: Vec<&str> = sections
        .iter()
        .map(|s| s.kind)
        .filter(|kind| !matches!(*kind, "video" | "application"))
        .collect();
    if videos.len() != 1 || channels > 1 || !others.is_empty() {
        return Err(OfferError::Sections {
            what: format!(
                "{} video, {channels} data-channel and {} other section(s){}",
                videos.len(),
                others.len(),
                if others.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", others.join(", "))
                }
            ),
        });
    }
    if !receives_baseline_h264(videos[0]) {
        return Err(OfferError::NoH264);
    }
    let mut kept = String::with_capacity(sdp.len());
    for line in lines
        .iter()
        .filter(|line| !line.starts_with("a=candidate:") && **line != "a=end-of-candidates")
    {
        kept.push_str(line);
        kept.push_str("\r\n");
    }
    Ok(CheckedOffer {
        sdp: kept,
        data_channel: channels == 1,
    })
}

/// One `m=` section: its media kind and its attribute lines.
struct Section<'a> {
    kind: &'a str,
    lines: Vec<&'a str>,
}

fn media_sections<'a>(lines: &[&'a str]) -> Vec<Section<'a>> {
    let mut sections: Vec<Section<'a>> = Vec::new();
    for line in lines {
        if let Some(media) = line.strip_prefix("m=") {
            sections.push(Section {
                kind: media.split(' ').next().unwrap_or_default(),
                lines: Vec::new(),
            });
        } else if let Some(section) = sections.last_mut() {
            section.lines.push(line);
        }
    }
    sections
}

/// Whether a video section lists an H.264 payload type whose parameters say
/// packetization-mode 1 and a constrained baseline profile (`42e0..`, or `4240..`).
fn receives_baseline_h264(video: &Section<'_>) -> bool {
    let h264_types: Vec<&str> = video
        .lines
        .iter()
        .filter_map(|line| line.strip_prefix("a=rtpmap:"))
        .filter_map(|map| {
            let (pt, codec) = map.split_once(' ')?;
            codec
                .to_ascii_uppercase()
                .starts_with("H264/90000")
                .then_some(pt)
        })
        .collect();
    video
        .lines
        .iter()
        .filter_map(|line| line.strip_prefix("a=fmtp:"))
        .filter_map(|fmtp| fmtp.split_once(' '))
        .filter(|(pt, _)| h264_types.contains(pt))
        .any(|(_, parameters)| {
            let parameter = |name: &str| {
                parameters.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    (key.eq_ignore_ascii_case(name)).then(|| value.trim().to_ascii_lowercase())
                })
            };
            let profile = parameter("profile-level-id").unwrap_or_default();
            parameter("packetization-mode").as_deref() == Some("1")
                && (profile.starts_with("42e0") || profile.starts_with("4240"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An offer as Chromium makes it (shortened): video with VP8 and two H.264 types, and
    /// a data channel; one host candidate with an mDNS name.
    const CHROMIUM: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0 1\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96 102 103\r\n\
c=IN IP4 0.0.0.0\r\n\
a=mid:0\r\n\
a=recvonly\r\n\
a=rtpmap:96 VP8/90000\r\n\
a=rtpmap:102 H264/90000\r\n\
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n\
a=rtpmap:103 H264/90000\r\n\
a=fmtp:103 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n\
a=candidate:1 1 udp 2113937151 3f1b7c2e-0f9a-4c8e-9b1e-1a2b3c4d5e6f.local 50000 typ host\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
c=IN IP4 0.0.0.0\r\n\
a=mid:1\r\n\
a=sctp-port:5000\r\n\
a=end-of-candidates\r\n";

    #[test]
    fn a_browsers_offer_passes_without_its_candidates() {
        let checked = check_offer(CHROMIUM).expect("accepted");
        assert!(checked.data_channel);
        assert!(!checked.sdp.contains("a=candidate:"));
        assert!(!checked.sdp.contains(".local"));
        assert!(!checked.sdp.contains("a=end-of-candidates"));
        assert!(checked.sdp.contains("a=fmtp:103 "));
        assert!(checked.sdp.lines().all(|line| !line.is_empty()));
        assert!(checked.sdp.ends_with("\r\n"));
    }

    #[test]
    fn offers_the_encoder_cannot_serve_are_refused_saying_why() {
        let no_mode_1 = CHROMIUM.replace("packetization-mode=1", "packetization-mode=0");
        assert_eq!(check_offer(&no_mode_1), Err(OfferError::NoH264));
        let high = CHROMIUM.replace("profile-level-id=42e01f", "profile-level-id=640c1f");
        assert_eq!(check_offer(&high), Err(OfferError::NoH264));
        let audio = format!("{CHROMIUM}m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n");
        let refused = check_offer(&audio).expect_err("audio refused");
        assert!(refused.to_string().contains("audio"), "{refused}");
        let two = CHROMIUM.replace(
            "m=application",
            "m=video 9 UDP/TLS/RTP/SAVPF 103\r\nm=application",
        );
        assert!(matches!(
            check_offer(&two),
            Err(OfferError::Sections { .. })
        ));
        assert_eq!(check_offer("hello"), Err(OfferError::NotSdp));
        let huge = format!("{CHROMIUM}{}", "a=x\r\n".repeat(MAX_LINES));
        assert!(matches!(
            check_offer(&huge),
            Err(OfferError::TooLarge { .. })
        ));
    }

    #[test]
    fn an_offer_without_a_data_channel_is_video_alone() {
        let start = CHROMIUM.find("m=application").expect("a data channel");
        let video_only = &CHROMIUM[..start];
        let checked = check_offer(video_only).expect("accepted");
        assert!(!checked.data_channel);
    }
}
