//! What the benchmarks' clients share: the pace of a drag, bounded waits for replies, the
//! greeting (connect, `hello`, the series to open), the codecs offered, and the quantiles
//! their figures are read from.

use std::time::Duration;

use anyhow::Context;
use hounsfield_client::{Client, STILL_CODECS, VIDEO_CODECS, Welcome};
use hounsfield_protocol::{Codec, SeriesInfo, StudyInfo, TransportKind, Viewport};
use hounsfield_tls::ServerTrust;

use crate::cli::StreamCodec;

/// Inputs a second while dragging (a mouse reports about this often).
pub(super) const INPUTS_PER_S: f64 = 30.0;
/// Azimuth per orbit input (degrees).
pub(super) const ORBIT_DEG_PER_INPUT: f64 = 5.0;
/// Longest wait for any one reply or frame before the run counts as failed.
pub(super) const REPLY_TIMEOUT: Duration = Duration::from_secs(120);

/// A client that connected to `url` (a `wss` server's certificate checked against
/// `trust`), said hello offering `codec` for a `size` view, and
/// chose the series to open (`series`, or the largest): the client, the `welcome`, and
/// the series (the soak's clients).
#[cfg(feature = "test-bench")]
pub(super) async fn greet(
    url: &str,
    trust: &ServerTrust,
    series: Option<&str>,
    size: [u32; 2],
    codec: StreamCodec,
) -> anyhow::Result<(Client, Welcome, SeriesInfo)> {
    greet_over(url, trust, series, size, codec, &[]).await
}

/// [`greet`], offering `transports` for the frames besides the WebSocket (`webrtc`).
pub(super) async fn greet_over(
    url: &str,
    trust: &ServerTrust,
    series: Option<&str>,
    size: [u32; 2],
    codec: StreamCodec,
    transports: &[TransportKind],
) -> anyhow::Result<(Client, Welcome, SeriesInfo)> {
    let mut client = in_time("connecting", connect_to_a_free_place(url, trust)).await?;
    let viewport = Viewport {
        width: size[0],
        height: size[1],
    };
    let welcome = in_time(
        "hello",
        client.hello_with_transports(None, viewport, offered(codec), transports),
    )
    .await?;
    let studies = in_time("list_studies", client.list_studies()).await?;
    let chosen = choose_series(&studies, series)?;
    Ok((client, welcome, chosen))
}

/// [`greet_over`] without other transports, then `open` of the series chosen: the client
/// (its opening frames still to come) and the series.
pub(super) async fn greet_and_open(
    url: &str,
    trust: &ServerTrust,
    series: Option<&str>,
    size: [u32; 2],
    codec: StreamCodec,
) -> anyhow::Result<(Client, SeriesInfo)> {
    let (mut client, _, chosen) = greet_over(url, trust, series, size, codec, &[]).await?;
    in_time("open", client.open(&chosen.id)).await?;
    Ok((client, chosen))
}

/// The codecs a client offers for `codec`.
pub(super) fn offered(codec: StreamCodec) -> &'static [Codec] {
    match codec {
        StreamCodec::H264 => &VIDEO_CODECS,
        StreamCodec::Jpeg => &STILL_CODECS,
    }
}

/// The name of the codec asked for, as the reports print it.
pub(super) fn codec_name(codec: StreamCodec) -> &'static str {
    match codec {
        StreamCodec::H264 => "h264",
        StreamCodec::Jpeg => "jpeg",
    }
}

/// The name of the codec the server granted, as the reports print it.
pub(super) fn granted_name(codec: Codec) -> &'static str {
    match codec {
        Codec::H264 => "h264",
        Codec::Jpeg => "jpeg",
        Codec::Png => "png",
    }
}

/// The series asked for (by id or number), or the one with the most slices.
pub(super) fn choose_series(
    studies: &[StudyInfo],
    wanted: Option<&str>,
) -> anyhow::Result<SeriesInfo> {
    let all = || studies.iter().flat_map(|study| &study.series);
    let chosen = match wanted {
        Some(wanted) => all().find(|s| {
            s.id == wanted || s.number.is_some_and(|number| number.to_string() == wanted)
        }),
        None => all()
            .filter(|s| s.unavailable.is_none() && s.dims.is_some())
            .max_by_key(|s| (s.dims.map_or(0, |d| d[2]), s.images)),
    };
    chosen.cloned().ok_or_else(|| {
        let known: Vec<&str> = all().map(|s| s.id.as_str()).take(8).collect();
        anyhow::anyhow!(
            "no series {} in the server's list (known: {})",
            wanted.map_or_else(|| "forms a volume".to_string(), |w| format!("\"{w}\"")),
            known.join(", ")
        )
    })
}

/// How long a run waits for a session place that the previous run's session, closed but
/// not yet wound down on the server, still holds.
const PLACE_WAIT: Duration = Duration::from_secs(5);

/// Connects to `url`; while the server answers 503 (all session places taken), tries again
/// for up to [`PLACE_WAIT`]: the benchmark's servers have as many places as it runs
/// sessions, and a session it closed frees its place a moment later.
async fn connect_to_a_free_place(
    url: &str,
    trust: &ServerTrust,
) -> Result<Client, hounsfield_client::ClientError> {
    let deadline = tokio::time::Instant::now() + PLACE_WAIT;
    loop {
        match Client::connect_trusting(url, trust).await {
            Err(hounsfield_client::ClientError::Socket(
                tokio_tungstenite::tungstenite::Error::Http(response),
            )) if response.status() == 503 && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            connected => return connected,
        }
    }
}

/// Waits for `future`, at most [`REPLY_TIMEOUT`]; the error says what was awaited.
pub(super) async fn in_time<T, E>(
    what: &str,
    future: impl Future<Output = Result<T, E>>,
) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match tokio::time::timeout(REPLY_TIMEOUT, future).await {
        Ok(result) => result.with_context(|| format!("waiting for {what}")),
        Err(_) => anyhow::bail!(
            "no reply within {} s while waiting for {what}",
            REPLY_TIMEOUT.as_secs()
        ),
    }
}

/// The `q` quantile of sorted values (nearest rank); 0 when there are none.
pub(super) fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A duration in milliseconds.
pub(super) fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.50), 10.0);
        assert_eq!(percentile(&values, 0.95), 19.0);
        assert_eq!(percentile(&[7.0], 0.95), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    fn series(id: &str, number: i32, slices: usize, unavailable: bool) -> SeriesInfo {
        SeriesInfo {
            id: id.to_string(),
            number: Some(number),
            modality: "CT".to_string(),
            description: String::new(),
            body_part: String::new(),
            images: slices,
            dims: Some([8, 8, slices]),
            unavailable: unavailable.then(|| "mosaic".to_string()),
            ..SeriesInfo::default()
        }
    }

    #[test]
    fn the_series_is_chosen_by_id_number_or_size() {
        let studies = vec![StudyInfo {
            id: "s".to_string(),
            description: String::new(),
            date: String::new(),
            patient_name: String::new(),
            patient_id: String::new(),
            series: vec![
                series("1.2.3", 2, 40, false),
                series("1.2.4", 3, 90, false),
                series("1.2.5", 4, 500, true),
            ],
            ..StudyInfo::default()
        }];
        let pick = |wanted| choose_series(&studies, wanted).map(|s| s.id);
        assert_eq!(pick(None).ok().as_deref(), Some("1.2.4"));
        assert_eq!(pick(Some("2")).ok().as_deref(), Some("1.2.3"));
        assert_eq!(pick(Some("1.2.5")).ok().as_deref(), Some("1.2.5"));
        let error = pick(Some("9")).expect_err("unknown");
        assert!(error.to_string().contains("1.2.3"), "{error}");
    }
}
