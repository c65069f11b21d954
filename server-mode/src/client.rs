//! A Rust client of protocol v1 (tokio-tungstenite): connect, `hello`, list, open, send
//! inputs and stills, and receive frames with their decoded headers. Used by the tests,
//! `hounsfield bench stream` and, later, the desktop's thin-client mode.

use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::protocol::{
    Action, ClientMessage, Codec, ErrorCode, FrameHeader, HeaderError, Input, Opened,
    ServerMessage, StudyInfo, Viewport,
};

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The WebSocket failed (connecting, reading or writing).
    #[error("WebSocket: {0}")]
    Socket(#[from] tokio_tungstenite::tungstenite::Error),
    /// The server closed the connection.
    #[error("the server closed the connection{}", .0.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Closed(Option<String>),
    /// The server answered with an `error`.
    #[error("server error {code:?}: {message}")]
    Server {
        /// The error code.
        code: ErrorCode,
        /// The server's message.
        message: String,
    },
    /// The server sent something that is not protocol v1.
    #[error("not protocol v1: {0}")]
    Protocol(String),
    /// A frame's header is broken.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// A frame's image could not be decoded.
    #[error("frame image: {0}")]
    Image(#[from] image::ImageError),
}

/// A frame as received.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The decoded header.
    pub header: FrameHeader,
    /// The encoded image.
    pub payload: Vec<u8>,
    /// When it arrived.
    pub received: Instant,
}

impl Frame {
    /// The image as RGBA pixels (rows from the top): width, height, bytes.
    pub fn decode_rgba(&self) -> Result<(u32, u32, Vec<u8>), ClientError> {
        let format = match self.header.codec {
            Codec::Jpeg => image::ImageFormat::Jpeg,
            Codec::Png => image::ImageFormat::Png,
            Codec::H264 => {
                return Err(ClientError::Protocol(
                    "H.264 frames are not decoded by this client".to_string(),
                ));
            }
        };
        let image = image::load_from_memory_with_format(&self.payload, format)?.to_rgba8();
        Ok((image.width(), image.height(), image.into_raw()))
    }
}

/// Something the server sent.
#[derive(Debug, Clone)]
pub enum Event {
    /// A text message.
    Message(ServerMessage),
    /// A binary frame.
    Frame(Frame),
}

/// A connection to a Hounsfield server.
pub struct Client {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_seq: u32,
    started: Instant,
}

impl Client {
    /// Connects to `url` (`ws://host:port/ws`, with `?token=…` when the server wants one).
    pub async fn connect(url: &str) -> Result<Self, ClientError> {
        let (socket, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(Self {
            socket,
            next_seq: 1,
            started: Instant::now(),
        })
    }

    /// Sends a message.
    pub async fn send(&mut self, message: &ClientMessage) -> Result<(), ClientError> {
        let text = serde_json::to_string(message)
            .map_err(|error| ClientError::Protocol(error.to_string()))?;
        self.send_text(&text).await
    }

    /// Sends any text, as is (tests use it for malformed messages).
    pub async fn send_text(&mut self, text: &str) -> Result<(), ClientError> {
        self.socket.send(Message::text(text)).await?;
        Ok(())
    }

    /// Sends binary bytes, as is (the server refuses them).
    pub async fn send_binary(&mut self, bytes: Vec<u8>) -> Result<(), ClientError> {
        self.socket.send(Message::binary(bytes)).await?;
        Ok(())
    }

    /// `hello`, waiting for `welcome`: the session number and the viewport granted.
    pub async fn hello(
        &mut self,
        token: Option<&str>,
        viewport: Viewport,
    ) -> Result<(u64, Viewport), ClientError> {
        self.send(&ClientMessage::Hello {
            token: token.map(str::to_string),
            codecs: vec![Codec::Jpeg, Codec::Png],
            viewport: Some(viewport),
        })
        .await?;
        self.reply(|message| match message {
            ServerMessage::Welcome {
                session, viewport, ..
            } => Some((session, viewport)),
            _ => None,
        })
        .await
    }

    /// `list_studies`, waiting for `studies`.
    pub async fn list_studies(&mut self) -> Result<Vec<StudyInfo>, ClientError> {
        self.send(&ClientMessage::ListStudies).await?;
        self.reply(|message| match message {
            ServerMessage::Studies { studies } => Some(studies),
            _ => None,
        })
        .await
    }

    /// `open`, waiting for `opened` (frames of the series follow).
    pub async fn open(&mut self, series: &str) -> Result<Opened, ClientError> {
        self.send(&ClientMessage::Open {
            series: series.to_string(),
        })
        .await?;
        self.reply(|message| match message {
            ServerMessage::Opened(opened) => Some(*opened),
            _ => None,
        })
        .await
    }

    /// Sends one input with the next seq and the time since connecting; returns the seq.
    pub async fn input(&mut self, action: Action) -> Result<u32, ClientError> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let input = Input {
            seq,
            t: self.started.elapsed().as_secs_f64() * 1000.0,
            action,
        };
        self.send(&ClientMessage::Input(input)).await?;
        Ok(seq)
    }

    /// Asks for a final still (PNG when `lossless`).
    pub async fn still(&mut self, lossless: bool) -> Result<(), ClientError> {
        self.send(&ClientMessage::Still { lossless }).await
    }

    /// The next message or frame (pings are answered and skipped).
    pub async fn next_event(&mut self) -> Result<Event, ClientError> {
        loop {
            let Some(message) = self.socket.next().await else {
                return Err(ClientError::Closed(None));
            };
            match message? {
                Message::Text(text) => {
                    let message: ServerMessage = serde_json::from_str(text.as_str())
                        .map_err(|error| ClientError::Protocol(format!("{error}: {text}")))?;
                    return Ok(Event::Message(message));
                }
                Message::Binary(bytes) => {
                    let header = FrameHeader::decode(&bytes)?;
                    return Ok(Event::Frame(Frame {
                        header,
                        payload: bytes[FrameHeader::LEN..].to_vec(),
                        received: Instant::now(),
                    }));
                }
                Message::Close(frame) => {
                    return Err(ClientError::Closed(frame.map(|f| f.reason.to_string())));
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }

    /// The next frame; `stats` are skipped, an `error` is returned as [`ClientError::Server`].
    pub async fn next_frame(&mut self) -> Result<Frame, ClientError> {
        loop {
            match self.next_event().await? {
                Event::Frame(frame) => return Ok(frame),
                Event::Message(ServerMessage::Error { code, message }) => {
                    return Err(ClientError::Server { code, message });
                }
                Event::Message(_) => {}
            }
        }
    }

    /// The next `error` reply's code and message, skipping frames and `stats`.
    pub async fn next_error(&mut self) -> Result<(ErrorCode, String), ClientError> {
        loop {
            if let Event::Message(ServerMessage::Error { code, message }) =
                self.next_event().await?
            {
                return Ok((code, message));
            }
        }
    }

    /// Closes the connection.
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.socket.close(None).await?;
        Ok(())
    }

    /// Waits for the reply `pick` accepts; frames and `stats` on the way are dropped, an
    /// `error` is returned as [`ClientError::Server`].
    async fn reply<T>(
        &mut self,
        pick: impl Fn(ServerMessage) -> Option<T>,
    ) -> Result<T, ClientError> {
        loop {
            match self.next_event().await? {
                Event::Message(ServerMessage::Error { code, message }) => {
                    return Err(ClientError::Server { code, message });
                }
                Event::Message(message) => {
                    if let Some(value) = pick(message) {
                        return Ok(value);
                    }
                }
                Event::Frame(_) => {}
            }
        }
    }
}
