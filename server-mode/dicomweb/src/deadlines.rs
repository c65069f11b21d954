//! How long each kind of call to a PACS may take, stated in one place: a search, a
//! catalogue listing, a series' metadata and a store each end by a fixed deadline; a
//! retrieval, which may be gigabytes, has no fixed total and ends instead when its data
//! stops arriving at a minimum rate. The `call` module enforces them on every call.

use std::fmt;
use std::time::Duration;

/// What a call to a PACS does, which sets how long it may take ([`Deadlines::bound`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// A QIDO-RS search (studies, a study's series, a series' instances, a study's
    /// reports): small JSON answers.
    Search,
    /// The catalogue of a whole PACS, every page of its studies and series (each page a
    /// [`CallKind::Search`] within it).
    Listing,
    /// A series' WADO-RS metadata: every instance's header as JSON, no pixel data.
    Metadata,
    /// A WADO-RS retrieval of instances or of a whole series, which may be gigabytes.
    Retrieval,
    /// A STOW-RS store of documents into a study.
    Store,
}

impl fmt::Display for CallKind {
    /// The kind as a message names it: "search", "retrieval"…
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Search => "search",
            Self::Listing => "listing",
            Self::Metadata => "metadata",
            Self::Retrieval => "retrieval",
            Self::Store => "store",
        })
    }
}

/// A minimum rate: at least `bytes` in every `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinimumRate {
    /// Bytes that must arrive in each window.
    pub bytes: u64,
    /// The sliding window they are counted over.
    pub window: Duration,
}

impl fmt::Display for MinimumRate {
    /// "65536 bytes in any 30 s".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes in any {} s",
            self.bytes,
            self.window.as_secs_f64()
        )
    }
}

/// How a call of one kind is bounded in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Over by this long after it starts, whatever arrives.
    Within(Duration),
    /// No fixed total: over when less than this rate arrives.
    AtLeast(MinimumRate),
}

/// The deadline of each kind of call, part of [`crate::Limits`]. Within a call, each
/// request also has the limits of [`crate::Limits`]: time to connect, to the first byte,
/// between bytes, and (except in a retrieval) for the whole request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadlines {
    /// A search, with its retries: a PACS answers a query within seconds.
    pub search: Duration,
    /// The catalogue listing in all, its pages (each also a search) and retries.
    pub listing: Duration,
    /// A series' metadata, with its retries.
    pub metadata: Duration,
    /// A store, with its retries.
    pub store: Duration,
    /// The least a retrieval must receive (all its requests together): below it, the
    /// retrieval ends, however long it has run.
    pub retrieval_rate: MinimumRate,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            // A loaded PACS answers a query within seconds; a minute is a PACS in trouble.
            search: Duration::from_secs(30),
            // 20,000 studies and 200,000 series are 1,100 pages of 200.
            listing: Duration::from_secs(900),
            // The headers of a 3,000-image series are tens of MB of JSON, and the PACS reads
            // every file to make them.
            metadata: Duration::from_secs(120),
            // A findings report, key images or a snapshot: a few MB.
            store: Duration::from_secs(120),
            // A PACS that dribbles (a byte every 20 s) sends a few bytes a window; a 2 GB
            // series at 30 Mbit/s sends 100 MB.
            retrieval_rate: MinimumRate {
                bytes: 64 << 10,
                window: Duration::from_secs(30),
            },
        }
    }
}

impl Deadlines {
    /// How a call of `kind` is bounded.
    pub fn bound(&self, kind: CallKind) -> Bound {
        match kind {
            CallKind::Search => Bound::Within(self.search),
            CallKind::Listing => Bound::Within(self.listing),
            CallKind::Metadata => Bound::Within(self.metadata),
            CallKind::Store => Bound::Within(self.store),
            CallKind::Retrieval => Bound::AtLeast(self.retrieval_rate),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_own_bound_and_only_a_retrieval_has_no_fixed_total() {
        let deadlines = Deadlines::default();
        assert_eq!(
            deadlines.bound(CallKind::Search),
            Bound::Within(Duration::from_secs(30))
        );
        assert_eq!(
            deadlines.bound(CallKind::Metadata),
            Bound::Within(Duration::from_secs(120))
        );
        assert_eq!(
            deadlines.bound(CallKind::Store),
            Bound::Within(Duration::from_secs(120))
        );
        assert_eq!(
            deadlines.bound(CallKind::Listing),
            Bound::Within(Duration::from_secs(900))
        );
        assert_eq!(
            deadlines.bound(CallKind::Retrieval),
            Bound::AtLeast(MinimumRate {
                bytes: 65536,
                window: Duration::from_secs(30)
            })
        );
        assert_eq!(
            deadlines.retrieval_rate.to_string(),
            "65536 bytes in any 30 s"
        );
    }
}
