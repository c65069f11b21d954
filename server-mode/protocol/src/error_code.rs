//! The stable, machine-readable reasons an `error` reply gives.

use serde::{Deserialize, Serialize};

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The text is not a JSON object.
    BadJson,
    /// The `type` is missing or not one of the protocol's.
    UnknownType,
    /// A known type with missing fields or fields of the wrong type.
    BadMessage,
    /// A value out of range (a zero size, a negative zoom…).
    BadValue,
    /// The message is larger than the server accepts.
    TooLarge,
    /// Binary messages are only sent by the server.
    UnexpectedBinary,
    /// `hello` must come first.
    HelloFirst,
    /// The token is missing or wrong; the server closes the connection.
    Unauthorized,
    /// No series with that id (ids come from `studies`; paths are never accepted).
    UnknownSeries,
    /// The series is listed but cannot be opened.
    Unavailable,
    /// Inputs came faster than the server accepts; this one was dropped.
    RateLimited,
    /// No series is open yet.
    NotOpen,
    /// The server failed to load or render; the message says why.
    Internal,
    /// The server is full or shutting down.
    Busy,
    /// This session follows a shared view and may not change it.
    ViewOnly,
    /// The user's role does not allow this (a viewer's `open`, a viewer's `share`).
    Forbidden,
    /// No shared session with that id (it ended, or the id is wrong).
    UnknownShare,
}
