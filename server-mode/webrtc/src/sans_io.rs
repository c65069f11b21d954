//! What both sides of a connection do with the stack the same way: a datagram handed in,
//! a text written on a data channel, and a step that drains the stack's output into
//! datagrams to send, the next deadline, data-channel texts and the other events.

use std::net::SocketAddr;
use std::time::Instant;

use str0m::channel::ChannelId;
use str0m::net::{Protocol, Receive};
use str0m::{Event, Input, Output, Rtc};

/// The longest data-channel message taken (as the WebSocket's text messages).
pub const MAX_CHANNEL_MESSAGE: usize = 16 << 10;

/// Why a peer could not be made or failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The host candidate was refused.
    #[error("no host candidate for {0}")]
    Candidate(SocketAddr),
    /// The WebRTC stack refused the offer or failed.
    #[error("WebRTC: {0}")]
    Rtc(String),
}

/// What a step of the stack gave, on either side.
#[derive(Debug, Default)]
pub struct Drained {
    /// Datagrams to send: destination and bytes.
    pub transmit: Vec<(SocketAddr, Vec<u8>)>,
    /// Text messages that came on data channels, in order (longer ones and binary ones
    /// are dropped).
    pub texts: Vec<String>,
    /// When to step again if nothing arrives.
    pub deadline: Option<Instant>,
}

/// Hands `rtc`, reachable at `local`, a datagram from `source` at `now`; `false` when it
/// is not this connection's (another's on the same socket, or junk).
pub(crate) fn receive(
    rtc: &mut Rtc,
    local: SocketAddr,
    now: Instant,
    source: SocketAddr,
    datagram: &[u8],
) -> bool {
    let Ok(contents) = datagram.try_into() else {
        return false;
    };
    let input = Input::Receive(
        now,
        Receive {
            proto: Protocol::Udp,
            source,
            destination: local,
            contents,
        },
    );
    rtc.accepts(&input) && rtc.handle_input(input).is_ok()
}

/// Writes `text` on data channel `channel`; `false` while it is not open or its buffer is
/// full (the text is dropped).
pub(crate) fn write_text(rtc: &mut Rtc, channel: Option<ChannelId>, text: &str) -> bool {
    let Some(id) = channel else {
        return false;
    };
    rtc.channel(id)
        .is_some_and(|mut channel| channel.write(false, text.as_bytes()).unwrap_or(false))
}

/// Advances `rtc` to `now` and drains its output; each event other than a data-channel
/// text goes to `on_event`, with the stack to act on it.
pub(crate) fn step(
    rtc: &mut Rtc,
    now: Instant,
    mut on_event: impl FnMut(&mut Rtc, Event),
) -> Result<Drained, PeerError> {
    let failed = |error: str0m::RtcError| PeerError::Rtc(error.to_string());
    rtc.handle_input(Input::Timeout(now)).map_err(failed)?;
    let mut drained = Drained::default();
    loop {
        match rtc.poll_output().map_err(failed)? {
            Output::Timeout(deadline) => {
                drained.deadline = Some(deadline);
                return Ok(drained);
            }
            Output::Transmit(transmit) => drained
                .transmit
                .push((transmit.destination, transmit.contents.to_vec())),
            Output::Event(Event::ChannelData(data)) => {
                if !data.binary
                    && data.data.len() <= MAX_CHANNEL_MESSAGE
                    && let Ok(text) = String::from_utf8(data.data)
                {
                    drained.texts.push(text);
                }
            }
            Output::Event(event) => on_event(rtc, event),
        }
    }
}
