//! When a connection is answering a request, for its place ([`super::places`]): from the
//! end of the request's body (its headers, when it has none) until the response's body has
//! been sent or dropped. A request whose body dribbles has not proven anything yet.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use hyper::body::{Body, Frame, SizeHint};

use super::places::{Answering, Place};

/// One request's answer on a place.
#[derive(Debug)]
pub(super) struct Answer {
    place: Arc<Place>,
    answering: OnceLock<Answering>,
}

impl Answer {
    /// A request on `place`, not yet whole.
    pub(super) fn new(place: Arc<Place>) -> Arc<Self> {
        Arc::new(Self {
            place,
            answering: OnceLock::new(),
        })
    }

    /// The request is whole: the place answers it until this answer is dropped.
    pub(super) fn begin(&self) {
        self.answering.get_or_init(|| self.place.answering());
    }
}

/// A request's or a response's body, holding its answer.
#[derive(Debug)]
pub(super) struct Tracked<B> {
    body: B,
    answer: Arc<Answer>,
    /// A request's body: its end begins the answer.
    begins_at_end: bool,
}

impl<B: Body> Tracked<B> {
    /// A request's body: the answer begins when it ends (at once when it is empty).
    pub(super) fn request(body: B, answer: Arc<Answer>) -> Self {
        if body.is_end_stream() {
            answer.begin();
        }
        Self {
            body,
            answer,
            begins_at_end: true,
        }
    }

    /// A response's body: the answer lasts until it is dropped.
    pub(super) fn response(body: B, answer: Arc<Answer>) -> Self {
        Self {
            body,
            answer,
            begins_at_end: false,
        }
    }
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        let ended = matches!(polled, Poll::Ready(None))
            || (matches!(polled, Poll::Ready(Some(Ok(_)))) && self.body.is_end_stream());
        if self.begins_at_end && ended {
            self.answer.begin();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
