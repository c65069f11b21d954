//! Binary frames: the codec of their payload, the ways they travel, the 32-byte header in
//! front of each on the WebSocket, and the note that stands for that header on WebRTC.

use serde::{Deserialize, Serialize};

/// The codec of a frame's payload, as numbered in the frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    /// A baseline JPEG (lossy; interactive frames and ordinary stills).
    Jpeg,
    /// A PNG (lossless stills).
    Png,
    /// One H.264 access unit, Annex B (interactive frames of sessions that chose H.264).
    H264,
}

impl Codec {
    /// The codec's number in the frame header.
    pub fn code(self) -> u8 {
        match self {
            Codec::Jpeg => 1,
            Codec::Png => 2,
            Codec::H264 => 3,
        }
    }

    /// The codec with this header number.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Codec::Jpeg),
            2 => Some(Codec::Png),
            3 => Some(Codec::H264),
            _ => None,
        }
    }
}

/// A way for frames to travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// RTP over a WebRTC peer.
    Webrtc,
    /// Binary messages on the session's WebSocket.
    Websocket,
}

/// Flags of a frame (bits of the header's flags byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameFlags(pub u8);

impl FrameFlags {
    /// Decodable on its own (every JPEG and PNG frame).
    pub const KEYFRAME: u8 = 1;
    /// A final still: full resolution and quality, the view at rest.
    pub const FINAL: u8 = 1 << 1;
    /// Lossless (PNG): the renderer's pixels exactly.
    pub const LOSSLESS: u8 = 1 << 2;
    /// A refining image: drawn after a drag, sharper than its interactive frames and sent
    /// before the final still, which follows.
    pub const REFINING: u8 = 1 << 3;
    /// A cinematic picture: the resting view path traced, refined frame after frame (a
    /// `cinematic` message before it says from how many paths a pixel).
    pub const CINEMATIC: u8 = 1 << 4;

    /// Whether the keyframe bit is set.
    pub fn keyframe(self) -> bool {
        self.0 & Self::KEYFRAME != 0
    }

    /// Whether the final-still bit is set.
    pub fn final_still(self) -> bool {
        self.0 & Self::FINAL != 0
    }

    /// Whether the lossless bit is set.
    pub fn lossless(self) -> bool {
        self.0 & Self::LOSSLESS != 0
    }

    /// Whether the refining bit is set.
    pub fn refining(self) -> bool {
        self.0 & Self::REFINING != 0
    }

    /// Whether the cinematic bit is set.
    pub fn cinematic(self) -> bool {
        self.0 & Self::CINEMATIC != 0
    }
}

/// The longest side of a frame a server sends (pixels): a server grants viewports up to
/// 4096 × 4096 (its `SessionLimits::max_viewport`), and a frame is never larger than its
/// viewport (an interactive frame may be smaller, shown larger). A reader refuses a header
/// that says more ([`HeaderError::TooLarge`]), so that no picture is decoded past it.
pub const MAX_FRAME_SIDE: u16 = 4096;

/// The most bytes of one binary message a client takes (the bound of its WebSocket, for
/// text too: a text message is then held to [`crate::MAX_SERVER_MESSAGE_BYTES`]). The
/// largest frame is a lossless still at [`MAX_FRAME_SIDE`] of pixels that do not compress:
/// the server's PNG (fast deflate, `Sub` filter) of 4096 × 4096 RGBA noise is 67,118,180
/// bytes with its header, just past tungstenite's default of 64 MiB; a JPEG of such noise
/// is 68.6 MB at quality 100 (the server's stills are at 95 at most), an H.264 access unit
/// far less. 80 MiB leaves a quarter more.
pub const MAX_FRAME_MESSAGE_BYTES: usize = 80 << 20;

/// The fixed header in front of every binary frame message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The payload's codec.
    pub codec: Codec,
    /// Keyframe, final still, lossless.
    pub flags: FrameFlags,
    /// Frames of this session, counted from 1.
    pub frame_seq: u32,
    /// The highest input seq this frame reflects (0 before any input).
    pub input_seq: u32,
    /// Frame width in pixels.
    pub width: u16,
    /// Frame height in pixels.
    pub height: u16,
    /// Time spent rendering and reading back (µs).
    pub render_us: u32,
    /// Time spent encoding (µs).
    pub encode_us: u32,
    /// The width to show the picture at: the view's, larger than `width` when an
    /// interactive frame is sent at the resolution it was rendered at (a client scales
    /// it up, bilinearly). On the wire 0 means `width`.
    pub display_width: u16,
    /// The height to show the picture at (0 on the wire: `height`).
    pub display_height: u16,
}

impl FrameHeader {
    /// The header's size in bytes.
    pub const LEN: usize = 32;
    /// The first four bytes of every frame.
    pub const MAGIC: [u8; 4] = *b"HFRM";
    /// The frame format version.
    pub const VERSION: u8 = 1;

    /// The header's 32 bytes, little-endian.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0..4].copy_from_slice(&Self::MAGIC);
        out[4] = Self::VERSION;
        out[5] = self.codec.code();
        out[6] = self.flags.0;
        out[8..12].copy_from_slice(&self.frame_seq.to_le_bytes());
        out[12..16].copy_from_slice(&self.input_seq.to_le_bytes());
        out[16..18].copy_from_slice(&self.width.to_le_bytes());
        out[18..20].copy_from_slice(&self.height.to_le_bytes());
        out[20..24].copy_from_slice(&self.render_us.to_le_bytes());
        out[24..28].copy_from_slice(&self.encode_us.to_le_bytes());
        out[28..30].copy_from_slice(&self.display_width.to_le_bytes());
        out[30..32].copy_from_slice(&self.display_height.to_le_bytes());
        out
    }

    /// Whether its picture is within [`MAX_FRAME_SIDE`] ([`HeaderError::TooLarge`] if not):
    /// [`Self::decode`] and a WebRTC note's reading check it; a decoder checks it again for
    /// a header made some other way.
    pub fn check_size(&self) -> Result<(), HeaderError> {
        check_sides(self.width, self.height)
    }

    /// Reads a header from the front of `bytes` (the payload follows it); a picture past
    /// [`MAX_FRAME_SIDE`] is refused.
    pub fn decode(bytes: &[u8]) -> Result<Self, HeaderError> {
        let Some(header) = bytes.first_chunk::<{ Self::LEN }>() else {
            return Err(HeaderError::TooShort(bytes.len()));
        };
        let u32_at =
            |n: usize| u32::from_le_bytes([header[n], header[n + 1], header[n + 2], header[n + 3]]);
        let u16_at = |n: usize| u16::from_le_bytes([header[n], header[n + 1]]);
        let magic = [header[0], header[1], header[2], header[3]];
        if magic != Self::MAGIC {
            return Err(HeaderError::BadMagic(magic));
        }
        if header[4] != Self::VERSION {
            return Err(HeaderError::Version(header[4]));
        }
        let (width, height) = (u16_at(16), u16_at(18));
        check_sides(width, height)?;
        let or_picture = |display: u16, picture: u16| if display == 0 { picture } else { display };
        Ok(Self {
            codec: Codec::from_code(header[5]).ok_or(HeaderError::Codec(header[5]))?,
            flags: FrameFlags(header[6]),
            frame_seq: u32_at(8),
            input_seq: u32_at(12),
            width,
            height,
            render_us: u32_at(20),
            encode_us: u32_at(24),
            display_width: or_picture(u16_at(28), width),
            display_height: or_picture(u16_at(30), height),
        })
    }
}

/// What the server says, on the WebRTC data channel, of each frame it sends over RTP
/// (the RTP packets carry no frame header): `{"type":"frame",…}`, found by the low 32 bits
/// of the frame's RTP time (see docs/protocol.md, "WebRTC").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "frame")]
pub struct FrameNote {
    /// The frame's `frame_seq`.
    pub frame_seq: u32,
    /// The highest input seq it reflects.
    pub input_seq: u32,
    /// The low 32 bits of its RTP time (90 kHz), as on the wire.
    pub rtp: u32,
    /// Its width in pixels.
    pub width: u16,
    /// Its height in pixels.
    pub height: u16,
    /// The width to show it at.
    pub display_width: u16,
    /// The height to show it at.
    pub display_height: u16,
    /// Whether it is a keyframe.
    pub keyframe: bool,
    /// Time spent rendering it (µs).
    #[serde(default)]
    pub render_us: u32,
    /// Time spent encoding it (µs).
    #[serde(default)]
    pub encode_us: u32,
}

impl FrameNote {
    /// The note of an H.264 frame numbered `frame_seq` sent at RTP time `rtp` (only its
    /// low 32 bits are kept: those the wire carries).
    pub fn of(header: &FrameHeader, frame_seq: u32, rtp: u64) -> Self {
        let or_own = |shown: u16, own: u16| if shown == 0 { own } else { shown };
        Self {
            frame_seq,
            input_seq: header.input_seq,
            // The low 32 bits, as the RTP header carries them.
            rtp: (rtp & u64::from(u32::MAX)) as u32,
            width: header.width,
            height: header.height,
            display_width: or_own(header.display_width, header.width),
            display_height: or_own(header.display_height, header.height),
            keyframe: header.flags.keyframe(),
            render_us: header.render_us,
            encode_us: header.encode_us,
        }
    }

    /// The header the frame would have had on the WebSocket.
    pub fn header(&self) -> FrameHeader {
        FrameHeader {
            codec: Codec::H264,
            flags: FrameFlags(if self.keyframe {
                FrameFlags::KEYFRAME
            } else {
                0
            }),
            frame_seq: self.frame_seq,
            input_seq: self.input_seq,
            width: self.width,
            height: self.height,
            render_us: self.render_us,
            encode_us: self.encode_us,
            display_width: self.display_width,
            display_height: self.display_height,
        }
    }
}

/// Why bytes are not a frame header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Fewer bytes than a header.
    #[error("a frame needs at least 32 bytes, got {0}")]
    TooShort(usize),
    /// The first four bytes are not `HFRM`.
    #[error("not a frame: the magic is {0:?}, not HFRM")]
    BadMagic([u8; 4]),
    /// A protocol version this client does not speak.
    #[error("frame version {0}, this build reads version 1")]
    Version(u8),
    /// A codec number not in the protocol.
    #[error("unknown codec number {0}")]
    Codec(u8),
    /// A picture larger than any a server sends ([`MAX_FRAME_SIDE`]).
    #[error(
        "a frame of {width}×{height} pixels: a server's frames are at most {MAX_FRAME_SIDE} pixels a side"
    )]
    TooLarge {
        /// The width stated.
        width: u16,
        /// The height stated.
        height: u16,
    },
}

/// Whether a picture of `width` × `height` is within [`MAX_FRAME_SIDE`]: the one check of
/// a frame's size, for headers and WebRTC notes alike.
pub(crate) fn check_sides(width: u16, height: u16) -> Result<(), HeaderError> {
    if width > MAX_FRAME_SIDE || height > MAX_FRAME_SIDE {
        return Err(HeaderError::TooLarge { width, height });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_note_says_the_frame_and_gives_back_its_header() {
        let header = FrameHeader {
            codec: Codec::H264,
            flags: FrameFlags(FrameFlags::KEYFRAME),
            frame_seq: 0,
            input_seq: 17,
            width: 512,
            height: 384,
            render_us: 9000,
            encode_us: 3000,
            display_width: 1024,
            display_height: 0,
        };
        let note = FrameNote::of(&header, 42, (1 << 32) + 123_456);
        assert_eq!(
            serde_json::to_value(note).expect("serialises"),
            serde_json::json!({"type": "frame", "frame_seq": 42, "input_seq": 17, "rtp": 123_456,
                "width": 512, "height": 384, "display_width": 1024, "display_height": 384,
                "keyframe": true, "render_us": 9000, "encode_us": 3000})
        );
        let back: FrameNote =
            serde_json::from_str(&serde_json::to_string(&note).expect("text")).expect("parses");
        assert_eq!(
            back.header(),
            FrameHeader {
                frame_seq: 42,
                display_height: 384,
                ..header
            }
        );
        assert!(serde_json::from_str::<FrameNote>(r#"{"type":"stats","frame_seq":1}"#).is_err());
    }

    fn header() -> FrameHeader {
        FrameHeader {
            codec: Codec::Png,
            flags: FrameFlags(FrameFlags::KEYFRAME | FrameFlags::FINAL | FrameFlags::LOSSLESS),
            frame_seq: 0x0102_0304,
            input_seq: 0x0A0B_0C0D,
            width: 1024,
            height: 768,
            render_us: 123_456,
            encode_us: 7_890,
            display_width: 2048,
            display_height: 1536,
        }
    }

    #[test]
    fn the_header_has_the_documented_32_byte_layout() {
        let bytes = header().encode();
        assert_eq!(bytes.len(), 32);
        assert_eq!(&bytes[0..4], b"HFRM");
        assert_eq!(bytes[4], 1, "version");
        assert_eq!(bytes[5], 2, "codec PNG");
        assert_eq!(bytes[6], 0b111, "keyframe, final, lossless");
        assert_eq!(bytes[7], 0, "reserved");
        assert_eq!(&bytes[8..12], &[0x04, 0x03, 0x02, 0x01], "frame_seq LE");
        assert_eq!(&bytes[12..16], &[0x0D, 0x0C, 0x0B, 0x0A], "input_seq LE");
        assert_eq!(&bytes[16..18], &1024u16.to_le_bytes());
        assert_eq!(&bytes[18..20], &768u16.to_le_bytes());
        assert_eq!(&bytes[20..24], &123_456u32.to_le_bytes());
        assert_eq!(&bytes[24..28], &7_890u32.to_le_bytes());
        assert_eq!(&bytes[28..30], &2048u16.to_le_bytes(), "display width");
        assert_eq!(&bytes[30..32], &1536u16.to_le_bytes(), "display height");
    }

    #[test]
    fn a_header_without_a_display_size_is_shown_at_its_own() {
        let mut bytes = header().encode();
        bytes[28..32].fill(0);
        let back = FrameHeader::decode(&bytes).expect("decodes");
        assert_eq!((back.display_width, back.display_height), (1024, 768));
    }

    #[test]
    fn the_header_round_trips_and_bad_headers_are_named() {
        let mut bytes = header().encode().to_vec();
        bytes.extend_from_slice(b"payload");
        let back = FrameHeader::decode(&bytes).expect("decodes");
        assert_eq!(back, header());
        assert!(back.flags.final_still() && back.flags.lossless() && back.flags.keyframe());
        assert_eq!(
            FrameHeader::decode(&bytes[..31]),
            Err(HeaderError::TooShort(31))
        );
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert!(matches!(
            FrameHeader::decode(&bad),
            Err(HeaderError::BadMagic(_))
        ));
        let mut bad = bytes.clone();
        bad[4] = 2;
        assert_eq!(FrameHeader::decode(&bad), Err(HeaderError::Version(2)));
        let mut bad = bytes.clone();
        bad[5] = 9;
        assert_eq!(FrameHeader::decode(&bad), Err(HeaderError::Codec(9)));
        let mut bad = bytes;
        bad[18..20].copy_from_slice(&(MAX_FRAME_SIDE + 1).to_le_bytes());
        assert_eq!(
            FrameHeader::decode(&bad),
            Err(HeaderError::TooLarge {
                width: 1024,
                height: MAX_FRAME_SIDE + 1
            })
        );
        bad[18..20].copy_from_slice(&MAX_FRAME_SIDE.to_le_bytes());
        assert!(
            FrameHeader::decode(&bad).is_ok(),
            "the bound itself is taken"
        );
    }
}
