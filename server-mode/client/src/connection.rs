//! A Rust client of protocol v1 (tokio-tungstenite): connect, `hello` (offering codecs),
//! list, open, send inputs, stills, keyframe requests and decoding stats, and receive
//! frames with their decoded headers ([`crate::decode::FrameDecoder`] turns them into
//! pixels). Used by the tests, `hounsfield bench stream` and the desktop's thin client.
//!
//! What a server sends is bounded where it arrives: the WebSocket takes no message past
//! [`MAX_FRAME_MESSAGE_BYTES`] (the largest frame), every text message is read through
//! [`parse_server_message`] (its bytes, nesting, strings and values checked before serde
//! sees it), every frame header through [`FrameHeader::decode`] (its sides at most
//! [`hounsfield_protocol::MAX_FRAME_SIDE`]). A server that passes a bound gets the
//! connection closed; the error ([`ClientError::Protocol`]) says which bound, in at most
//! [`hounsfield_protocol::MAX_ERROR_MESSAGE_CHARS`] characters, and quotes none of what
//! was sent.

use std::net::SocketAddr;
use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use hounsfield_protocol::{
    Action, ClientMessage, ClientStats, Codec, ErrorCode, FrameHeader, HeaderError, Input,
    LoadProgress, MAX_FRAME_MESSAGE_BYTES, MAX_STUDY_PAGE, Opened, ServerMessage, StudyInfo,
    StudyPage, StudyRequest, TransportKind, Viewport, bounded_error_message, parse_server_message,
};
use hounsfield_tls::client::Presented;
use hounsfield_tls::{Fingerprint, ServerTrust, TlsError};

/// What [`Client::hello`] offers: JPEG and PNG, which [`Frame::decode_rgba`] decodes.
pub const STILL_CODECS: [Codec; 2] = [Codec::Jpeg, Codec::Png];
/// H.264 first, then JPEG and PNG: for clients decoding with
/// [`crate::decode::FrameDecoder`].
pub const VIDEO_CODECS: [Codec; 3] = [Codec::H264, Codec::Jpeg, Codec::Png];

/// The server's `welcome`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    /// The session's number.
    pub session: u64,
    /// The frame size granted (even sides with H.264).
    pub viewport: Viewport,
    /// The codec of interactive frames: H.264 or JPEG.
    pub codec: Codec,
    /// The FFmpeg encoder behind H.264.
    pub encoder: Option<String>,
    /// Why JPEG although H.264 was offered first.
    pub fallback: Option<String>,
    /// The user the server let in (none on a server that asks for no token).
    pub user: Option<String>,
    /// The user's role (`viewer`, `reader` or `admin`).
    pub role: Option<String>,
    /// The render node serving the session, when the server is one of several: a
    /// reconnection that names it (`?node=`) comes back to this session's node.
    pub node: Option<String>,
    /// Transports the server offers besides the WebSocket's own (`webrtc`), when asked.
    pub transports: Vec<TransportKind>,
}

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
        /// The server's message, at most
        /// [`hounsfield_protocol::MAX_ERROR_MESSAGE_CHARS`] characters.
        message: String,
    },
    /// The server sent something that is not protocol v1, or past the bounds of what a
    /// server sends (then the connection is closed): what was wrong, at most
    /// [`hounsfield_protocol::MAX_ERROR_MESSAGE_CHARS`] characters, quoting none of it.
    #[error("not protocol v1: {0}")]
    Protocol(String),
    /// A frame's header is broken or states a picture past the bound of frames (then the
    /// connection is closed).
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// A frame's picture could not be decoded (or lied about its size).
    #[error(transparent)]
    Picture(#[from] crate::decode::DecodeError),
    /// The server could not be reached.
    #[error("cannot reach {address}: {source}")]
    Unreachable {
        /// `host:port`.
        address: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// TLS could not be set up on this side (a CA file that does not load, say).
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The server's certificate is not signed by a trusted CA for its name (self-signed,
    /// say): the user may choose to trust this fingerprint.
    #[error(
        "the server's certificate is not trusted ({reason}); its SHA-256 fingerprint is {fingerprint}: trust it only if the server's operator confirms this fingerprint"
    )]
    Untrusted {
        /// The certificate's fingerprint.
        fingerprint: Fingerprint,
        /// Why it is not trusted.
        reason: String,
    },
    /// The server presented another certificate than the one trusted before.
    #[error(
        "the server's certificate changed: trusted {trusted}, now presented {presented}. Someone may be intercepting the connection; ask the server's operator before trusting the new one"
    )]
    CertificateChanged {
        /// The fingerprint trusted.
        trusted: Fingerprint,
        /// The fingerprint presented now.
        presented: Fingerprint,
    },
    /// The TLS handshake failed (not a TLS server, say).
    #[error("TLS with {address} failed: {reason}")]
    Handshake {
        /// `host:port`.
        address: String,
        /// What failed.
        reason: String,
    },
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
    /// A JPEG or PNG frame as RGBA pixels (rows from the top): width, height, bytes.
    /// H.264 frames depend on earlier ones: decode those with
    /// [`crate::decode::FrameDecoder`]. Decoded within what the header states, as
    /// [`crate::decode::FrameDecoder`] does.
    pub fn decode_rgba(&self) -> Result<(u32, u32, Vec<u8>), ClientError> {
        let format = match self.header.codec {
            Codec::Jpeg => image::ImageFormat::Jpeg,
            Codec::Png => image::ImageFormat::Png,
            Codec::H264 => {
                return Err(ClientError::Protocol(
                    "H.264 frames need the stream's earlier frames: decode them with FrameDecoder"
                        .to_string(),
                ));
            }
        };
        let image = crate::decode::decode_picture(self, format)?;
        Ok((image.width, image.height, image.rgba))
    }
}

/// The hanging protocol a study opened by: its name and its cells (`hanging`).
pub type HangingTold = (String, Vec<hounsfield_protocol::HungCell>);

/// Something the server sent.
#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "an event is moved once, from the reader to its caller, who matches on the \
              message inside: a box would cost an allocation a message and every caller's \
              patterns a deref, to save a few hundred bytes of a copy"
)]
pub enum Event {
    /// A text message.
    Message(ServerMessage),
    /// A binary frame.
    Frame(Frame),
}

/// A TLS connection to `address` for the host named `host` (a name or an address, IPv6 in
/// brackets), its certificate checked against `trust`.
async fn tls_connect(
    address: &str,
    host: &str,
    trust: &ServerTrust,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ClientError> {
    let (config, presented) = trust.client_config()?;
    let name = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(name.to_string()).map_err(|error| ClientError::Handshake {
        address: address.to_string(),
        reason: format!("{host:?} is not a host name: {error}"),
    })?;
    let tcp = TcpStream::connect(address)
        .await
        .map_err(|source| ClientError::Unreachable {
            address: address.to_string(),
            source,
        })?;
    let _ = tcp.set_nodelay(true);
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|error| handshake_error(address, trust, &presented, &error))
}

/// What a failed handshake means to the user: a changed pinned certificate, an untrusted
/// one (with its fingerprint, to be trusted or not), or another failure.
fn handshake_error(
    address: &str,
    trust: &ServerTrust,
    presented: &Presented,
    error: &std::io::Error,
) -> ClientError {
    let tls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match (trust.pinned, presented.fingerprint(), tls_error) {
        (Some(trusted), Some(seen), _) if trusted != seen => ClientError::CertificateChanged {
            trusted,
            presented: seen,
        },
        (None, Some(fingerprint), Some(rustls::Error::InvalidCertificate(why))) => {
            ClientError::Untrusted {
                fingerprint,
                reason: certificate_problem(why),
            }
        }
        _ => ClientError::Handshake {
            address: address.to_string(),
            reason: error.to_string(),
        },
    }
}

/// Why a certificate was refused, in a user's words.
fn certificate_problem(why: &rustls::CertificateError) -> String {
    use rustls::CertificateError as Why;
    match why {
        Why::UnknownIssuer => {
            "signed by no authority this machine trusts: self-signed?".to_string()
        }
        Why::NotValidForName | Why::NotValidForNameContext { .. } => {
            "issued for another host name".to_string()
        }
        Why::Expired | Why::ExpiredContext { .. } => "expired".to_string(),
        Why::NotValidYet | Why::NotValidYetContext { .. } => "not valid yet".to_string(),
        other => format!("{other:?}"),
    }
}

/// The WebSocket's bounds: no message or frame past [`MAX_FRAME_MESSAGE_BYTES`] (the
/// largest frame a server sends; a text message is held to less by
/// [`parse_server_message`] once it is whole).
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_FRAME_MESSAGE_BYTES))
}

/// How long the close frame of a refusal may take to leave: a server that does not read
/// is not waited for.
const REFUSAL_CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// A server's `error` reply as an error, its message cut to
/// [`hounsfield_protocol::MAX_ERROR_MESSAGE_CHARS`].
fn server_error(code: ErrorCode, message: String) -> ClientError {
    ClientError::Server {
        code,
        message: bounded_error_message(message),
    }
}

/// A connection to a Hounsfield server.
pub struct Client {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_seq: u32,
    started: Instant,
    /// Why this client closed the connection (the server passed a bound); every later
    /// read says it again.
    refused: Option<String>,
}

impl Client {
    /// Connects to `url` (`ws://host:port/ws` or `wss://…`, with `?token=…` when the server
    /// wants one), trusting the system's root certificates for `wss`.
    pub async fn connect(url: &str) -> Result<Self, ClientError> {
        Self::connect_trusting(url, &ServerTrust::system()).await
    }

    /// Connects to `url`; a `wss` server's certificate must satisfy `trust`.
    pub async fn connect_trusting(url: &str, trust: &ServerTrust) -> Result<Self, ClientError> {
        Self::connect_with_headers(url, trust, &[]).await
    }

    /// Connects to `url` as [`Client::connect_trusting`] does, sending `headers` with the
    /// upgrade request (a login `Cookie`, say).
    pub async fn connect_with_headers(
        url: &str,
        trust: &ServerTrust,
        headers: &[(&str, &str)],
    ) -> Result<Self, ClientError> {
        let mut request = url.into_client_request()?;
        for (name, value) in headers {
            let name =
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|error| ClientError::Protocol(format!("header {name:?}: {error}")))?;
            let value = tokio_tungstenite::tungstenite::http::HeaderValue::from_str(value)
                .map_err(|error| ClientError::Protocol(format!("header value: {error}")))?;
            request.headers_mut().append(name, value);
        }
        let uri = request.uri().clone();
        let socket = if uri.scheme_str() == Some("wss") {
            let host = uri.host().unwrap_or_default();
            let address = format!("{host}:{}", uri.port_u16().unwrap_or(443));
            let tls = tls_connect(&address, host, trust).await?;
            let (socket, _) = tokio_tungstenite::client_async_with_config(
                request,
                MaybeTlsStream::Rustls(tls),
                Some(socket_config()),
            )
            .await?;
            socket
        } else {
            tokio_tungstenite::connect_async_with_config(request, Some(socket_config()), false)
                .await?
                .0
        };
        Ok(Self {
            socket,
            next_seq: 1,
            started: Instant::now(),
            refused: None,
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

    /// `hello` offering JPEG and PNG ([`STILL_CODECS`]), waiting for `welcome`: the
    /// session number and the viewport granted.
    pub async fn hello(
        &mut self,
        token: Option<&str>,
        viewport: Viewport,
    ) -> Result<(u64, Viewport), ClientError> {
        let welcome = self.hello_offering(token, viewport, &STILL_CODECS).await?;
        Ok((welcome.session, welcome.viewport))
    }

    /// `hello` offering `codecs` in order of preference (e.g. [`VIDEO_CODECS`]), waiting
    /// for `welcome`.
    pub async fn hello_offering(
        &mut self,
        token: Option<&str>,
        viewport: Viewport,
        codecs: &[Codec],
    ) -> Result<Welcome, ClientError> {
        self.hello_with_transports(token, viewport, codecs, &[])
            .await
    }

    /// [`Self::hello_offering`], saying which `transports` the client can take frames over
    /// (e.g. `webrtc` and `websocket`); `welcome.transports` says what the server offers.
    pub async fn hello_with_transports(
        &mut self,
        token: Option<&str>,
        viewport: Viewport,
        codecs: &[Codec],
        transports: &[TransportKind],
    ) -> Result<Welcome, ClientError> {
        self.send(&ClientMessage::Hello {
            token: token.map(str::to_string),
            codecs: codecs.to_vec(),
            viewport: Some(viewport),
            transports: transports.to_vec(),
        })
        .await?;
        self.reply(|message| match message {
            ServerMessage::Welcome {
                session,
                viewport,
                codec,
                encoder,
                fallback,
                user,
                role,
                node,
                transports,
                ..
            } => Some(Welcome {
                session,
                viewport,
                codec,
                encoder,
                fallback,
                user,
                role,
                node,
                transports,
            }),
            _ => None,
        })
        .await
    }

    /// `list_studies` for the newest [`MAX_STUDY_PAGE`] studies, waiting for `studies`.
    pub async fn list_studies(&mut self) -> Result<Vec<StudyInfo>, ClientError> {
        let request = StudyRequest {
            limit: Some(MAX_STUDY_PAGE),
            ..StudyRequest::default()
        };
        Ok(self.find_studies(request).await?.studies)
    }

    /// `list_studies` with a query, offset and limit, waiting for `studies`.
    pub async fn find_studies(&mut self, request: StudyRequest) -> Result<StudyPage, ClientError> {
        self.send(&ClientMessage::ListStudies(request)).await?;
        self.reply(|message| match message {
            ServerMessage::Studies {
                studies,
                total,
                offset,
            } => Some(StudyPage {
                studies,
                total,
                offset,
            }),
            _ => None,
        })
        .await
    }

    /// `open`, waiting for `opened` (frames of the series follow).
    pub async fn open(&mut self, series: &str) -> Result<Opened, ClientError> {
        self.open_reporting(series, |_| {}).await
    }

    /// [`Self::open`], handing each `progress` of a long load to `on_progress`.
    pub async fn open_reporting(
        &mut self,
        series: &str,
        on_progress: impl FnMut(LoadProgress),
    ) -> Result<Opened, ClientError> {
        let open = ClientMessage::Open {
            series: series.to_string(),
        };
        self.opening(&open, on_progress).await
    }

    /// `open_study`: study `id` laid out by the server's hanging protocols, waiting for
    /// `opened` (its first cell's series); with it the protocol's name and cells, as the
    /// `hanging` before it told them, when one applied.
    pub async fn open_study(
        &mut self,
        id: &str,
    ) -> Result<(Option<HangingTold>, Opened), ClientError> {
        self.open_study_reporting(id, |_| {}).await
    }

    /// [`Self::open_study`], handing each `progress` of a long load to `on_progress`.
    pub async fn open_study_reporting(
        &mut self,
        id: &str,
        mut on_progress: impl FnMut(LoadProgress),
    ) -> Result<(Option<HangingTold>, Opened), ClientError> {
        self.send(&ClientMessage::OpenStudy {
            study: id.to_string(),
        })
        .await?;
        let mut hanging = None;
        let opened = self
            .reply(|message| match message {
                ServerMessage::Hanging { protocol, cells } => {
                    hanging = Some((protocol, cells));
                    None
                }
                ServerMessage::Progress(progress) => {
                    on_progress(progress);
                    None
                }
                ServerMessage::Opened(opened) => Some(*opened),
                _ => None,
            })
            .await?;
        Ok((hanging, opened))
    }

    /// `join`s the shared session `id` (its series opened, its view followed), waiting for
    /// `opened`, handing each `progress` of a long load to `on_progress`.
    pub async fn join_reporting(
        &mut self,
        id: &str,
        on_progress: impl FnMut(LoadProgress),
    ) -> Result<Opened, ClientError> {
        let join = ClientMessage::Join { id: id.to_string() };
        self.opening(&join, on_progress).await
    }

    /// Sends `message` (an `open` or a `join`) and waits for `opened`, handing each
    /// `progress` to `on_progress`.
    async fn opening(
        &mut self,
        message: &ClientMessage,
        mut on_progress: impl FnMut(LoadProgress),
    ) -> Result<Opened, ClientError> {
        self.send(message).await?;
        self.reply(|message| match message {
            ServerMessage::Opened(opened) => Some(*opened),
            ServerMessage::Progress(progress) => {
                on_progress(progress);
                None
            }
            _ => None,
        })
        .await
    }

    /// Sends one input with the next seq and the time since connecting; returns the seq.
    pub async fn input(&mut self, action: Action) -> Result<u32, ClientError> {
        let input = self.numbered(action);
        let seq = input.seq;
        self.send(&ClientMessage::Input(input)).await?;
        Ok(seq)
    }

    /// `action` as the session's next input (numbered and stamped), as JSON, to be sent
    /// some other way (a WebRTC data channel); its seq.
    pub fn input_json(&mut self, action: Action) -> Result<(u32, String), ClientError> {
        let input = self.numbered(action);
        let seq = input.seq;
        serde_json::to_string(&ClientMessage::Input(input))
            .map(|json| (seq, json))
            .map_err(|error| ClientError::Protocol(error.to_string()))
    }

    /// `action` with the next seq and the time since the connection opened.
    fn numbered(&mut self, action: Action) -> Input {
        let seq = self.next_seq;
        self.next_seq += 1;
        Input {
            seq,
            t: self.started.elapsed().as_secs_f64() * 1000.0,
            action,
        }
    }

    /// Asks for a final still (PNG when `lossless`).
    pub async fn still(&mut self, lossless: bool) -> Result<(), ClientError> {
        self.send(&ClientMessage::Still { lossless }).await
    }

    /// Asks for a frame decodable on its own (after
    /// [`crate::decode::DecodeError::wants_keyframe`]).
    pub async fn keyframe(&mut self) -> Result<(), ClientError> {
        self.send(&ClientMessage::Keyframe).await
    }

    /// Reports how decoding keeps up (about once a second); H.264 rate control follows it.
    pub async fn report(&mut self, stats: ClientStats) -> Result<(), ClientError> {
        self.send(&ClientMessage::Stats(stats)).await
    }

    /// Sends a WebRTC offer and waits for the server's answer (its SDP); an `error` reply
    /// (WebRTC not offered, held off, a refused offer) is [`ClientError::Server`].
    pub async fn offer_webrtc(&mut self, sdp: String) -> Result<String, ClientError> {
        self.send(&ClientMessage::WebrtcOffer { sdp }).await?;
        self.reply(|message| match message {
            ServerMessage::WebrtcAnswer { sdp } => Some(sdp),
            _ => None,
        })
        .await
    }

    /// The local address of the connection to the server (the one a WebRTC peer binds,
    /// so that the server reaches it the way it is reached).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self.socket.get_ref() {
            MaybeTlsStream::Plain(tcp) => tcp.local_addr().ok(),
            MaybeTlsStream::Rustls(tls) => tls.get_ref().0.local_addr().ok(),
            _ => None,
        }
    }

    /// The next message or frame (pings are answered and skipped). Each text message is
    /// read through [`parse_server_message`], each frame header through
    /// [`FrameHeader::decode`]; a message past their bounds, or past the socket's
    /// ([`MAX_FRAME_MESSAGE_BYTES`]), closes the connection with
    /// [`ClientError::Protocol`] (or [`ClientError::Header`]), and every later call says
    /// the same.
    pub async fn next_event(&mut self) -> Result<Event, ClientError> {
        loop {
            if let Some(why) = &self.refused {
                return Err(ClientError::Protocol(why.clone()));
            }
            let Some(message) = self.socket.next().await else {
                return Err(ClientError::Closed(None));
            };
            let message = match message {
                Ok(message) => message,
                Err(tokio_tungstenite::tungstenite::Error::Capacity(
                    CapacityError::MessageTooLong { size, max_size },
                )) => {
                    let why = format!(
                        "the server sent a message of at least {size} bytes: a client takes at most {max_size} (the largest frame)"
                    );
                    return Err(self
                        .refuse(CloseCode::Size, ClientError::Protocol(why))
                        .await);
                }
                Err(error) => return Err(error.into()),
            };
            match message {
                Message::Text(text) => {
                    return match parse_server_message(text.as_str()) {
                        Ok(message) => Ok(Event::Message(message)),
                        Err(refused) => {
                            let code = if refused.code == ErrorCode::TooLarge {
                                CloseCode::Size
                            } else {
                                CloseCode::Policy
                            };
                            Err(self
                                .refuse(code, ClientError::Protocol(refused.message))
                                .await)
                        }
                    };
                }
                Message::Binary(bytes) => {
                    let header = match FrameHeader::decode(&bytes) {
                        Ok(header) => header,
                        Err(error) => {
                            return Err(self.refuse(CloseCode::Policy, error.into()).await);
                        }
                    };
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

    /// Closes the connection because of what the server sent (a close frame with `code`,
    /// sent within [`REFUSAL_CLOSE_WAIT`]), and gives back `error`; later reads say it
    /// again.
    async fn refuse(&mut self, code: CloseCode, error: ClientError) -> ClientError {
        let reason = if code == CloseCode::Size {
            "past the client's bounds"
        } else {
            "not protocol v1"
        };
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        // A server that sent what it should not may not read either: the close frame is
        // tried, not waited for; dropping the client closes the connection in any case.
        let _ = tokio::time::timeout(REFUSAL_CLOSE_WAIT, self.socket.close(Some(frame))).await;
        self.refused = Some(bounded_error_message(match &error {
            ClientError::Protocol(why) => why.clone(),
            other => other.to_string(),
        }));
        error
    }

    /// The next frame; `stats` are skipped, an `error` is returned as [`ClientError::Server`].
    pub async fn next_frame(&mut self) -> Result<Frame, ClientError> {
        loop {
            match self.next_event().await? {
                Event::Frame(frame) => return Ok(frame),
                Event::Message(ServerMessage::Error { code, message }) => {
                    return Err(server_error(code, message));
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
                return Ok((code, bounded_error_message(message)));
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
        mut pick: impl FnMut(ServerMessage) -> Option<T>,
    ) -> Result<T, ClientError> {
        loop {
            match self.next_event().await? {
                Event::Message(ServerMessage::Error { code, message }) => {
                    return Err(server_error(code, message));
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
