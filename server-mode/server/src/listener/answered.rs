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

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::{Duration, Instant};

    use axum::body::Body as AxumBody;
    use futures_util::future::poll_fn;

    use super::*;
    use crate::listener::places::{PlaceBounds, Places};

    fn place() -> Arc<Place> {
        let places = Places::new(PlaceBounds {
            max_connections: 4,
            max_per_address: 4,
            grace: Duration::from_secs(1),
            exempt: Vec::new(),
        });
        let place = places
            .admit(IpAddr::from([192, 0, 2, 1]), Instant::now())
            .expect("a place");
        Arc::new(place)
    }

    /// Reads `body` to its end.
    async fn read_whole<B: Body + Unpin>(body: &mut B) {
        while let Some(frame) = poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await {
            assert!(frame.is_ok(), "a frame");
        }
    }

    #[tokio::test]
    async fn a_request_is_answered_from_the_end_of_its_body_until_its_response_is_dropped() {
        let place = place();
        let answer = Answer::new(place.clone());
        let mut request = Tracked::request(AxumBody::from("{\"token\": \"t\"}"), answer.clone());
        assert!(!place.is_answering(), "its body has not come yet");
        read_whole(&mut request).await;
        assert!(place.is_answering(), "its body is whole");
        drop(request);
        let response = Tracked::response(AxumBody::from("answer"), answer);
        assert!(place.is_answering(), "while the response goes out");
        drop(response);
        assert!(!place.is_answering(), "idle again");
    }

    #[tokio::test]
    async fn a_request_without_a_body_is_answered_at_once() {
        let place = place();
        let answer = Answer::new(place.clone());
        let request = Tracked::request(AxumBody::empty(), answer.clone());
        assert!(place.is_answering());
        drop((request, answer));
        assert!(!place.is_answering());
    }
}
