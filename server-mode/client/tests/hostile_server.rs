//! A hostile server against the thin client's intake: megabytes of `[`, JSON 200 levels
//! deep, a 10 MB string, a 100 MB text message, millions of empty values, a message just
//! under every bound, a frame header of 30000 × 30000, and frames whose JPEG, PNG or H.264
//! data declares another size than their header (one of them a real 8000 × 8000 picture).
//! Each must give a clear error of at most a few hundred characters and a closed
//! connection, their honest twins must decode, and the client process's peak memory, from
//! the kernel, must stay under [`MAX_CLIENT_PEAK_KB`].
//!
//! The server runs in this test's process; the client runs every case in a child process
//! (this test binary again, running its one ignored test), so that the peak measured is
//! the client's alone, not that of the server building its messages.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::frame::Frame as WireFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::{Bytes, Message};

use hounsfield_client::{Client, ClientError, DecodeError, Event, FrameDecoder};
use hounsfield_protocol::{Codec, FrameFlags, FrameHeader, HeaderError};
use hounsfield_video::H264Encoder;

/// Where the child process finds the hostile server (`ws://…`).
const SERVER_ENV: &str = "HOUNSFIELD_HOSTILE_SERVER";
/// The cases the child process runs, comma-separated.
const CASES_ENV: &str = "HOUNSFIELD_HOSTILE_CASES";
/// The most the client process may hold at its peak (kB, as the kernel counts `VmHWM`).
const MAX_CLIENT_PEAK_KB: u64 = 300 * 1024;
/// The longest error a case may give (characters): a status bar's line.
const MAX_ERROR_CHARS: usize = 400;
/// The side every frame header states.
const STATED_SIDE: u16 = 64;
/// The side the lying JPEG and PNG headers declare.
const DECLARED_SIDE: u32 = 30_000;
/// The side of the real picture behind a 64 × 64 header.
const REAL_SIDE: u32 = 8_000;
/// The side the lying H.264 SPS declares.
const SPS_SIDE: u32 = 8_192;

/// What a case sends and what the client must make of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A text message refused by the intake: [`ClientError::Protocol`] containing this,
    /// the connection closed with this code.
    Refused(&'static str, CloseCode),
    /// A frame header refused: [`ClientError::Header`].
    HeaderRefused,
    /// A frame whose picture lies: [`DecodeError::DeclaredSize`] (JPEG, PNG) or an H.264
    /// error, never a picture.
    PictureRefused,
    /// An honest frame: decoded at the size its header states.
    Decoded,
}

/// The cases: name, and what the client must make of it.
const CASES: [(&str, Expect); 17] = [
    (
        "brackets",
        Expect::Refused("nests deeper than 16 levels", CloseCode::Size),
    ),
    (
        "deep",
        Expect::Refused("nests deeper than 16 levels", CloseCode::Size),
    ),
    (
        "long-string",
        Expect::Refused("a string of 10000000 bytes", CloseCode::Size),
    ),
    (
        "huge-text",
        Expect::Refused("the server sent a message of at least", CloseCode::Size),
    ),
    (
        "many-values",
        Expect::Refused("more than 2000000 values", CloseCode::Size),
    ),
    // Just under every bound: what serde then costs is the most a message can cost.
    (
        "values-at-the-bound",
        Expect::Refused("is not a message of protocol v1", CloseCode::Policy),
    ),
    (
        "not-json",
        Expect::Refused("is not JSON", CloseCode::Policy),
    ),
    ("huge-header", Expect::HeaderRefused),
    ("png-declares-30000", Expect::PictureRefused),
    ("jpeg-declares-30000", Expect::PictureRefused),
    ("png-holds-8000", Expect::PictureRefused),
    ("h264-sps-declares-8192", Expect::PictureRefused),
    ("honest-png", Expect::Decoded),
    ("honest-jpeg", Expect::Decoded),
    ("honest-png-4096", Expect::Decoded),
    ("honest-h264", Expect::Decoded),
    ("honest-h264-1000x750", Expect::Decoded),
];

fn expectation(case: &str) -> Expect {
    CASES
        .iter()
        .find(|(name, _)| *name == case)
        .map(|(_, expect)| *expect)
        .unwrap_or_else(|| panic!("no case {case}"))
}

#[test]
fn a_hostile_server_gets_clear_errors_a_closed_connection_and_little_of_the_clients_memory() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let h264 = h264_keyframe(64, 64).is_some();
    let cases: Vec<&str> = CASES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| h264 || !name.contains("h264"))
        .collect();
    if !h264 {
        println!("libx264 cannot be opened here: the H.264 cases are left out");
    }
    let closes = Arc::new(Mutex::new(HashMap::new()));
    let listener = runtime
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("a port");
    let address = listener.local_addr().expect("an address");
    runtime.spawn(serve(listener, closes.clone()));

    let started = Instant::now();
    let child = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "the_client_side_in_a_child_process",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SERVER_ENV, format!("ws://{address}/ws"))
        .env(CASES_ENV, cases.join(","))
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&child.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&child.stderr));
    assert!(child.status.success(), "the client's side failed");
    println!("every case in {:.1} s", started.elapsed().as_secs_f64());
    let peak_kb: u64 = stdout
        .lines()
        .find_map(|line| line.strip_prefix("peak after every case: "))
        .and_then(|rest| rest.trim_end_matches(" kB").parse().ok())
        .expect("the child says its peak");
    assert!(
        peak_kb < MAX_CLIENT_PEAK_KB,
        "the client peaked at {peak_kb} kB, over {MAX_CLIENT_PEAK_KB} kB"
    );
    // Every text refusal closed the connection with its code. A 100 MB message is still
    // being sent when the client closes: its server may see the connection reset first.
    let recorded = |closes: &HashMap<String, Option<u16>>| {
        cases.iter().all(|case| {
            !matches!(expectation(case), Expect::Refused(..)) || closes.contains_key(*case)
        })
    };
    let waited = Instant::now();
    while !recorded(&closes.lock().expect("the closes")) && waited.elapsed().as_secs() < 30 {
        std::thread::sleep(Duration::from_millis(100));
    }
    let closes = closes.lock().expect("the closes").clone();
    for case in &cases {
        if let Expect::Refused(_, code) = expectation(case) {
            let seen = closes.get(*case).copied().flatten();
            if *case == "huge-text" && seen.is_none() {
                continue;
            }
            assert_eq!(seen, Some(u16::from(code)), "{case}: the close seen");
        }
    }
    drop(runtime);
}

#[test]
#[ignore = "the client's side of the hostile-server test, run by it in a child process"]
fn the_client_side_in_a_child_process() {
    let (Ok(url), Ok(cases)) = (std::env::var(SERVER_ENV), std::env::var(CASES_ENV)) else {
        panic!("run by a_hostile_server_gets_clear_errors_…, which names its server");
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let before = peak_kb();
    println!("peak before any case: {before} kB");
    for case in cases.split(',') {
        let what = runtime
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(120), client_case(&url, case)).await
            })
            .unwrap_or_else(|_| panic!("{case}: no answer within 120 s"));
        println!("{case}: {what} (peak so far {} kB)", peak_kb());
    }
    println!("peak after every case: {} kB", peak_kb());
}

/// The peak resident memory of this process (`VmHWM`, kB).
fn peak_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches(" kB").trim().parse().ok())
        .expect("VmHWM")
}

/// One case from the client's side: what it got, checked against what it must.
async fn client_case(url: &str, case: &str) -> String {
    let mut client = Client::connect(url).await.expect("connects");
    client.send_text(case).await.expect("names the case");
    let event = client.next_event().await;
    let told = |error: &dyn std::fmt::Display| {
        let text = error.to_string();
        assert!(
            text.chars().count() <= MAX_ERROR_CHARS,
            "{case}: an error of {} characters",
            text.chars().count()
        );
        text
    };
    match expectation(case) {
        Expect::Refused(says, _) => {
            let error = event.expect_err("refused");
            let text = told(&error);
            assert!(
                matches!(error, ClientError::Protocol(_)),
                "{case}: {error:?}"
            );
            assert!(text.contains(says), "{case}: {text}");
            // The connection is closed: later reads say the same, reading nothing more.
            let again = client.next_event().await.expect_err("closed");
            assert_eq!(again.to_string(), text, "{case}: read again");
            text
        }
        Expect::HeaderRefused => {
            let error = event.expect_err("refused");
            assert!(
                matches!(error, ClientError::Header(HeaderError::TooLarge { .. })),
                "{case}: {error:?}"
            );
            let again = client.next_event().await.expect_err("closed");
            assert!(again.to_string().contains("30000×30000"), "{again}");
            told(&error)
        }
        Expect::PictureRefused => {
            let Ok(Event::Frame(frame)) = event else {
                panic!("{case}: a frame, not {event:?}");
            };
            let error = FrameDecoder::new().decode(&frame).expect_err("no picture");
            if frame.header.codec == Codec::H264 {
                assert!(
                    matches!(
                        error,
                        DecodeError::Video { .. } | DecodeError::SizeMismatch { .. }
                    ),
                    "{case}: {error:?}"
                );
            } else {
                assert!(
                    matches!(
                        error,
                        DecodeError::DeclaredSize {
                            stated: [64, 64],
                            ..
                        }
                    ),
                    "{case}: {error:?}"
                );
                assert!(error.lies_about_its_size());
                let again = frame.decode_rgba().expect_err("no picture either");
                assert!(
                    matches!(
                        again,
                        ClientError::Picture(DecodeError::DeclaredSize { .. })
                    ),
                    "{case}: {again:?}"
                );
            }
            told(&error)
        }
        Expect::Decoded => {
            let Ok(Event::Frame(frame)) = event else {
                panic!("{case}: a frame, not {event:?}");
            };
            let picture = FrameDecoder::new().decode(&frame).expect("decodes");
            let stated = [frame.header.width, frame.header.height].map(u32::from);
            assert_eq!([picture.width, picture.height], stated, "{case}");
            format!("decoded at {} × {}", picture.width, picture.height)
        }
    }
}

/// Accepts connections, each naming its case, until the test ends; records the close
/// code each client sent back.
async fn serve(listener: TcpListener, closes: Arc<Mutex<HashMap<String, Option<u16>>>>) {
    while let Ok((tcp, _)) = listener.accept().await {
        tokio::spawn(serve_one(tcp, closes.clone()));
    }
}

async fn serve_one(tcp: TcpStream, closes: Arc<Mutex<HashMap<String, Option<u16>>>>) {
    let Ok(mut socket) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let Some(Ok(Message::Text(case))) = socket.next().await else {
        return;
    };
    let case = case.to_string();
    let sent = match case.as_str() {
        "brackets" => socket.send(Message::text("[".repeat(5_000_000))).await,
        "deep" => {
            let deep = format!(
                "{}{}",
                r#"{"type":"view","seq":1,"view":"#.repeat(200),
                "}".repeat(200)
            );
            socket.send(Message::text(deep)).await
        }
        "long-string" => {
            let long = "x".repeat(10_000_000);
            let message = format!(r#"{{"type":"error","code":"internal","message":"{long}"}}"#);
            socket.send(Message::text(message)).await
        }
        "huge-text" => {
            let text = Bytes::from(vec![b'a'; 100 << 20]);
            send_in_fragments(&mut socket, text).await
        }
        "many-values" => {
            let values = "[],".repeat(10_000_000);
            let message = format!(r#"{{"type":"findings","series":"s","findings":[{values}[]]}}"#);
            send_in_fragments(&mut socket, Bytes::from(message)).await
        }
        "values-at-the-bound" => {
            // Object members cost serde the most a value (a pair of values, 64 bytes).
            let members = r#""":0,"#.repeat(hounsfield_protocol::MAX_SERVER_JSON_VALUES - 10);
            let message =
                format!(r#"{{"type":"findings","series":"s","findings":[{{{members}"":0}}]}}"#);
            send_in_fragments(&mut socket, Bytes::from(message)).await
        }
        "not-json" => {
            let message = format!("{{\"type\":\"welcome\",{}", "x".repeat(100_000));
            socket.send(Message::text(message)).await
        }
        "huge-header" => {
            let header = frame_header(Codec::Png, 30_000, 30_000);
            socket.send(framed(header, &png(64))).await
        }
        "png-declares-30000" => {
            let mut payload = png(u32::from(STATED_SIDE));
            declare_png_size(&mut payload, DECLARED_SIDE);
            socket.send(framed(stated(Codec::Png), &payload)).await
        }
        "jpeg-declares-30000" => {
            let mut payload = jpeg(u32::from(STATED_SIDE));
            declare_jpeg_size(&mut payload, DECLARED_SIDE);
            socket.send(framed(stated(Codec::Jpeg), &payload)).await
        }
        "png-holds-8000" => {
            let payload = zero_png(REAL_SIDE);
            socket.send(framed(stated(Codec::Png), &payload)).await
        }
        "h264-sps-declares-8192" => {
            let unit = h264_keyframe(64, 64).expect("libx264");
            let payload = declare_h264_size(&unit, SPS_SIDE);
            socket.send(framed(stated(Codec::H264), &payload)).await
        }
        "honest-png" => socket.send(framed(stated(Codec::Png), &png(64))).await,
        "honest-jpeg" => socket.send(framed(stated(Codec::Jpeg), &jpeg(64))).await,
        // The largest frame a server sends is taken.
        "honest-png-4096" => {
            let side = hounsfield_protocol::MAX_FRAME_SIDE;
            let header = frame_header(Codec::Png, side, side);
            socket.send(framed(header, &png(u32::from(side)))).await
        }
        "honest-h264" => {
            let unit = h264_keyframe(64, 64).expect("libx264");
            socket.send(framed(stated(Codec::H264), &unit)).await
        }
        // A size of whole macroblocks neither across nor down, nor of FFmpeg's alignment:
        // the decoder's bound leaves it room.
        "honest-h264-1000x750" => {
            let unit = h264_keyframe(1000, 750).expect("libx264");
            let header = frame_header(Codec::H264, 1000, 750);
            socket.send(framed(header, &unit)).await
        }
        other => panic!("no case {other}"),
    };
    let _ = sent;
    // What the client sends back: its close frame, or nothing (the connection dropped).
    let close = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Close(frame) = message {
                return frame.map(|frame| u16::from(frame.code));
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    closes.lock().expect("the closes").insert(case, close);
}

/// `text` sent as one text message of 1 MiB fragments, as a server may: a socket's bound
/// on frames does not hold a message back.
async fn send_in_fragments(
    socket: &mut tokio_tungstenite::WebSocketStream<TcpStream>,
    text: Bytes,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let fragments = text.len().div_ceil(1 << 20);
    for n in 0..fragments {
        let opcode = if n == 0 {
            OpCode::Data(Data::Text)
        } else {
            OpCode::Data(Data::Continue)
        };
        let fragment = text.slice(n << 20..((n + 1) << 20).min(text.len()));
        let last = n + 1 == fragments;
        socket
            .send(Message::Frame(WireFrame::message(fragment, opcode, last)))
            .await?;
    }
    Ok(())
}

/// A keyframe's header stating `width` × `height`.
fn frame_header(codec: Codec, width: u16, height: u16) -> FrameHeader {
    FrameHeader {
        codec,
        flags: FrameFlags(FrameFlags::KEYFRAME | FrameFlags::FINAL),
        frame_seq: 1,
        input_seq: 0,
        width,
        height,
        render_us: 0,
        encode_us: 0,
        display_width: width,
        display_height: height,
    }
}

/// A keyframe's header stating 64 × 64.
fn stated(codec: Codec) -> FrameHeader {
    frame_header(codec, STATED_SIDE, STATED_SIDE)
}

/// The binary message of `header` and `payload`.
fn framed(header: FrameHeader, payload: &[u8]) -> Message {
    let mut bytes = header.encode().to_vec();
    bytes.extend_from_slice(payload);
    Message::binary(bytes)
}

/// A grey `side` × `side` RGBA picture.
fn grey(side: u32) -> image::RgbaImage {
    grey_of(side, side)
}

/// A grey `width` × `height` RGBA picture.
fn grey_of(width: u32, height: u32) -> image::RgbaImage {
    image::RgbaImage::from_pixel(width, height, image::Rgba([90, 90, 90, 255]))
}

/// A `side` × `side` PNG, as the server encodes its lossless stills.
fn png(side: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    grey(side)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encodes");
    out.into_inner()
}

/// A `side` × `side` JPEG.
fn jpeg(side: u32) -> Vec<u8> {
    let rgb = image::DynamicImage::ImageRgba8(grey(side)).to_rgb8();
    let mut out = std::io::Cursor::new(Vec::new());
    rgb.write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encodes");
    out.into_inner()
}

/// Makes `png` declare `side` × `side` in its IHDR (the chunk's CRC computed again), its
/// data left as it is.
fn declare_png_size(png: &mut [u8], side: u32) {
    // The signature (8 bytes), then IHDR: its length (4), type (4), width and height.
    assert_eq!(&png[12..16], b"IHDR");
    png[16..20].copy_from_slice(&side.to_be_bytes());
    png[20..24].copy_from_slice(&side.to_be_bytes());
    let crc = crc32fast::hash(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
}

/// Makes `jpeg` declare `side` × `side` in its frame header (SOF0).
fn declare_jpeg_size(jpeg: &mut [u8], side: u32) {
    let side = u16::try_from(side).expect("a JPEG side");
    // The segments after SOI, each a marker and its length, up to the frame header.
    let mut sof = 2;
    while jpeg[sof + 1] != 0xC0 {
        assert_eq!(jpeg[sof], 0xFF, "a marker at byte {sof}");
        sof += 2 + usize::from(u16::from_be_bytes([jpeg[sof + 2], jpeg[sof + 3]]));
    }
    // The marker (2), length (2), precision (1), then height and width.
    jpeg[sof + 5..sof + 7].copy_from_slice(&side.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&side.to_be_bytes());
}

/// A real `side` × `side` RGBA PNG of zeros, deflated row by row as it is written (about
/// a quarter of a megabyte for 8000 × 8000: its pixels, 256 MB, are never held).
fn zero_png(side: u32) -> Vec<u8> {
    let row = vec![0_u8; 1 + side as usize * 4];
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    for _ in 0..side {
        zlib.write_all(&row).expect("deflates");
    }
    let data = zlib.finish().expect("deflated");
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    // 8 bits a sample, RGBA, deflate, adaptive filters, no interlace.
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, chunk) in [
        (b"IHDR", &ihdr[..]),
        (b"IDAT", &data[..]),
        (b"IEND", &[][..]),
    ] {
        png.extend_from_slice(&u32::try_from(chunk.len()).expect("a chunk").to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(chunk);
        let crc = crc32fast::hash(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }
    png
}

/// A `width` × `height` H.264 keyframe (SPS, PPS and an IDR picture) from libx264, as
/// the server streams them; none where libx264 cannot be opened.
fn h264_keyframe(width: u32, height: u32) -> Option<Vec<u8>> {
    let mut encoder = H264Encoder::open("libx264", width, height, 1000).ok()?;
    let picture = grey_of(width, height);
    let unit = encoder
        .encode(picture.as_raw(), width, height, true, Instant::now())
        .ok()?;
    Some(unit.bytes)
}

/// `unit` (Annex B) with its SPS declaring `side` × `side` pixels (whole macroblocks), the
/// rest as it was.
fn declare_h264_size(unit: &[u8], side: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for nal in annex_b_units(unit) {
        out.extend_from_slice(&[0, 0, 0, 1]);
        if nal[0] & 0x1F == 7 {
            out.extend_from_slice(&sps_declaring(nal, side / 16));
        } else {
            out.extend_from_slice(nal);
        }
    }
    out
}

/// The NAL units of an Annex B access unit, without their start codes.
fn annex_b_units(unit: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut at = 0;
    while at + 3 <= unit.len() {
        if unit[at..at + 3] == [0, 0, 1] {
            starts.push(at + 3);
            at += 3;
        } else {
            at += 1;
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &start)| {
            let mut end = starts.get(n + 1).map_or(unit.len(), |next| next - 3);
            // A four-byte start code's leading zero, and trailing zeros.
            while end > start && unit[end - 1] == 0 {
                end -= 1;
            }
            &unit[start..end]
        })
        .collect()
}

/// An SPS NAL unit as `sps`, but `macroblocks` × `macroblocks` in size.
fn sps_declaring(sps: &[u8], macroblocks: u32) -> Vec<u8> {
    let rbsp = without_emulation_prevention(&sps[1..]);
    let mut bits = BitReader {
        bytes: &rbsp,
        at: 0,
    };
    let profile_idc = bits.read(8);
    bits.read(16); // constraint flags, level_idc
    bits.ue(); // seq_parameter_set_id
    if [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].contains(&profile_idc) {
        if bits.ue() == 3 {
            bits.read(1); // separate_colour_plane_flag
        }
        bits.ue(); // bit_depth_luma_minus8
        bits.ue(); // bit_depth_chroma_minus8
        bits.read(1); // qpprime_y_zero_transform_bypass_flag
        assert_eq!(bits.read(1), 0, "no scaling matrices in a streamed SPS");
    }
    bits.ue(); // log2_max_frame_num_minus4
    match bits.ue() {
        0 => {
            bits.ue(); // log2_max_pic_order_cnt_lsb_minus4
        }
        2 => {}
        other => panic!("pic_order_cnt_type {other}: not written by libx264 for streaming"),
    }
    bits.ue(); // max_num_ref_frames
    bits.read(1); // gaps_in_frame_num_value_allowed_flag
    let size_from = bits.at;
    bits.ue(); // pic_width_in_mbs_minus1
    bits.ue(); // pic_height_in_map_units_minus1
    let size_to = bits.at;
    let stop_bit = (0..rbsp.len() * 8)
        .rev()
        .find(|&n| rbsp[n / 8] >> (7 - n % 8) & 1 == 1)
        .expect("the RBSP's stop bit");
    let mut out = BitWriter::default();
    let copy = |out: &mut BitWriter, from: usize, to: usize| {
        for n in from..to {
            out.push(rbsp[n / 8] >> (7 - n % 8) & 1);
        }
    };
    copy(&mut out, 0, size_from);
    out.ue(macroblocks - 1);
    out.ue(macroblocks - 1);
    copy(&mut out, size_to, stop_bit + 1);
    let mut nal = vec![sps[0]];
    nal.extend(with_emulation_prevention(&out.finish()));
    nal
}

/// An RBSP from a NAL unit's payload (each `00 00 03` back to `00 00`).
fn without_emulation_prevention(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len());
    let mut zeros = 0;
    for &byte in payload {
        if zeros >= 2 && byte == 3 {
            zeros = 0;
            continue;
        }
        zeros = if byte == 0 { zeros + 1 } else { 0 };
        out.push(byte);
    }
    out
}

/// A NAL unit's payload from an RBSP (`03` after two zeros before any byte up to 3).
fn with_emulation_prevention(rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rbsp.len() + 8);
    let mut zeros = 0;
    for &byte in rbsp {
        if zeros >= 2 && byte <= 3 {
            out.push(3);
            zeros = 0;
        }
        zeros = if byte == 0 { zeros + 1 } else { 0 };
        out.push(byte);
    }
    out
}

/// Bits of an RBSP, most significant first.
struct BitReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl BitReader<'_> {
    fn read(&mut self, bits: usize) -> u32 {
        let mut value = 0;
        for _ in 0..bits {
            let bit = self.bytes[self.at / 8] >> (7 - self.at % 8) & 1;
            value = value << 1 | u32::from(bit);
            self.at += 1;
        }
        value
    }

    /// An unsigned Exp-Golomb number.
    fn ue(&mut self) -> u32 {
        let mut zeros = 0;
        while self.read(1) == 0 {
            zeros += 1;
        }
        (1 << zeros) - 1 + self.read(zeros)
    }
}

/// Bits into an RBSP, most significant first.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    bits: usize,
}

impl BitWriter {
    fn push(&mut self, bit: u8) {
        if self.bits.is_multiple_of(8) {
            self.bytes.push(0);
        }
        if bit != 0 {
            let last = self.bytes.len() - 1;
            self.bytes[last] |= 1 << (7 - self.bits % 8);
        }
        self.bits += 1;
    }

    /// An unsigned Exp-Golomb number.
    fn ue(&mut self, value: u32) {
        let coded = value + 1;
        let length = 32 - coded.leading_zeros();
        for _ in 1..length {
            self.push(0);
        }
        for n in (0..length).rev() {
            self.push(u8::from(coded >> n & 1 == 1));
        }
    }

    /// The bytes, the last one padded with zeros (after the copied stop bit).
    fn finish(self) -> Vec<u8> {
        self.bytes
    }
}
