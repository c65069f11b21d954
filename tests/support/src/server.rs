//! Servers for the streaming server's tests: started on loopback, each in a thread of its
//! own (with its own async runtime and render thread); tests that only talk to a plain
//! server share one ([`shared`]).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use hounsfield_server::BackgroundServer;
use hounsfield_server::{Library, Scheduler, ServerConfig};
use render_core::transfer::PresetLibrary;

/// The servers started, kept running until the test process ends (which skips the GPU
/// driver's teardown, see [`crate::end_before_the_gpu_driver_teardown`]).
static RUNNING: Mutex<Vec<BackgroundServer>> = Mutex::new(Vec::new());

/// A config on `127.0.0.1`, any free port, with the server's defaults otherwise.
pub fn loopback_config() -> ServerConfig {
    ServerConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// Starts one server per config and returns their addresses; they run until the test
/// process ends.
pub fn start(configs: Vec<ServerConfig>) -> Vec<SocketAddr> {
    start_with_library(Arc::new(Library::scan(&[], 1 << 30)), configs)
}

/// [`start`] serving `library` instead of the built-in phantom.
pub fn start_with_library(library: Arc<Library>, configs: Vec<ServerConfig>) -> Vec<SocketAddr> {
    // A render thread of their own: tests of one process run at once, and one thread
    // drawing a large CT for one of them would starve the others' frames.
    let scheduler = Arc::new(
        Scheduler::start(PresetLibrary::builtin(), 2)
            .expect("a GPU adapter (lavapipe at least) is needed"),
    );
    // The servers outlive the tests: one may still be drawing when the process ends.
    crate::end_before_the_gpu_driver_teardown();
    let mut running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
    configs
        .into_iter()
        .map(|config| {
            let server =
                BackgroundServer::start("test-server", config, library.clone(), scheduler.clone())
                    .expect("binds on loopback");
            let address = server.address();
            running.push(server);
            address
        })
        .collect()
}

/// The address of a server on `config` that every test of this process asking for `slot`
/// shares: tests that need a plain server to talk to, and change nothing server-wide, do
/// not each start one. `config` is read by the first caller only.
pub fn shared(
    slot: &'static OnceLock<SocketAddr>,
    config: impl FnOnce() -> ServerConfig,
) -> SocketAddr {
    *slot.get_or_init(|| start(vec![config()])[0])
}

/// Starts a server on `config` whose library is the series in `folders` (scanned now),
/// and returns its address; it runs until the test process ends.
pub fn start_serving(config: ServerConfig, folders: &[std::path::PathBuf]) -> SocketAddr {
    start_with_library(Arc::new(Library::scan(folders, 1 << 30)), vec![config])[0]
}

/// Runs an async test body on a runtime of its own, failing it when it takes longer than
/// `limit` (a hung test, not a slow one); what the body gives.
pub fn run_within<T>(limit: std::time::Duration, body: impl std::future::Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        tokio::time::timeout(limit, body)
            .await
            .expect("the test finished in time")
    })
}

/// A client of the server at `address` that said hello with `token` for frames of
/// `viewport`.
pub async fn signed_in(
    address: SocketAddr,
    token: &str,
    viewport: hounsfield_protocol::Viewport,
) -> hounsfield_client::Client {
    greeted(address, Some(token), viewport).await
}

/// A client of the server at `address` (one that asks for no token) that said hello for
/// frames of `viewport`.
pub async fn connected(
    address: SocketAddr,
    viewport: hounsfield_protocol::Viewport,
) -> hounsfield_client::Client {
    greeted(address, None, viewport).await
}

async fn greeted(
    address: SocketAddr,
    token: Option<&str>,
    viewport: hounsfield_protocol::Viewport,
) -> hounsfield_client::Client {
    let mut client = hounsfield_client::Client::connect(&format!("ws://{address}/ws"))
        .await
        .expect("connects");
    client.hello(token, viewport).await.expect("welcome");
    client
}

/// The first message `client` is told within `patience` that `pick` takes (an `error`
/// too), or `None`.
pub async fn told<T>(
    client: &mut hounsfield_client::Client,
    patience: std::time::Duration,
    mut pick: impl FnMut(hounsfield_protocol::ServerMessage) -> Option<T>,
) -> Option<T> {
    tokio::time::timeout(patience, async {
        loop {
            if let hounsfield_client::Event::Message(message) =
                client.next_event().await.expect("the session lives")
                && let Some(picked) = pick(message)
            {
                return picked;
            }
        }
    })
    .await
    .ok()
}

/// A `probe` answer: the point and what the session read there.
#[derive(Debug, Clone, PartialEq)]
pub struct Probed {
    /// The point (LPS, mm).
    pub lps_mm: [f64; 3],
    /// The nearest voxel's value in the volume shown.
    pub value: Option<f64>,
    /// In a series over time, the voxel's value in every volume.
    pub values: Vec<f64>,
    /// That curve's measures.
    pub curve: Option<hounsfield_protocol::CurveInfo>,
    /// The value of the series drawn over the slices (`over`).
    pub over_value: Option<f64>,
    /// A PET's `value` in SUV.
    pub suv: Option<f64>,
    /// The PET drawn over's `over_value` in SUV.
    pub over_suv: Option<f64>,
}

/// Probes slice cell `cell` at fractions `at` and waits up to a minute for the answer; an
/// `error` instead fails the test.
pub async fn probe(client: &mut hounsfield_client::Client, cell: &str, at: [f64; 2]) -> Probed {
    use hounsfield_protocol::{ClientMessage, ServerMessage};
    client
        .send(&ClientMessage::Probe {
            cell: cell.to_string(),
            x: at[0],
            y: at[1],
        })
        .await
        .expect("sent");
    told(
        client,
        std::time::Duration::from_secs(60),
        |told| match told {
            ServerMessage::Probe {
                lps_mm,
                value,
                values,
                curve,
                over_value,
                suv,
                over_suv,
                ..
            } => Some(Probed {
                lps_mm,
                value,
                values,
                curve,
                over_value,
                suv,
                over_suv,
            }),
            ServerMessage::Error { message, .. } => panic!("probe {cell} {at:?}: {message}"),
            _ => None,
        },
    )
    .await
    .expect("a probe's answer within a minute")
}

/// A point of slice cell `cell` whose voxel's value lies in `values`, found by probing a
/// grid of the cell (fractions `n / 20` for `n` in `steps`, row by row) at 25 probes a
/// second (the server takes 30): its fractions of the cell and its patient point (LPS mm).
pub async fn probed_in_cell(
    client: &mut hounsfield_client::Client,
    cell: &str,
    steps: std::ops::Range<u32>,
    values: std::ops::RangeInclusive<f64>,
) -> Option<([f64; 2], [f64; 3])> {
    use hounsfield_protocol::{ClientMessage, ServerMessage};
    for row in steps.clone() {
        for column in steps.clone() {
            let (x, y) = (f64::from(column) / 20.0, f64::from(row) / 20.0);
            tokio::time::sleep(std::time::Duration::from_millis(40)).await;
            client
                .send(&ClientMessage::Probe {
                    cell: cell.to_string(),
                    x,
                    y,
                })
                .await
                .expect("sent");
            let probed = told(
                client,
                std::time::Duration::from_secs(5),
                |told| match told {
                    ServerMessage::Probe { lps_mm, value, .. } => Some(Some((lps_mm, value))),
                    ServerMessage::Error { .. } => Some(None),
                    _ => None,
                },
            )
            .await
            .flatten();
            if let Some((lps, Some(value))) = probed
                && values.contains(&value)
            {
                return Some(([x, y], lps));
            }
        }
    }
    None
}

/// A lossless final still of `client`'s view now.
pub async fn lossless_still(client: &mut hounsfield_client::Client) -> hounsfield_client::Frame {
    try_lossless_still(client).await.expect("frames")
}

/// [`lossless_still`], or the error the server told instead (a refusal of what was asked
/// before the still).
pub async fn try_lossless_still(
    client: &mut hounsfield_client::Client,
) -> Result<hounsfield_client::Frame, hounsfield_client::ClientError> {
    client.still(true).await.expect("sent");
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            let frame = client.next_frame().await?;
            if frame.header.flags.final_still() && frame.header.flags.lossless() {
                return Ok(frame);
            }
        }
    })
    .await
    .expect("a lossless still in time")
}

/// The mean absolute difference of two frames' red, green and blue, in 0..=1.
pub fn frames_apart(a: &hounsfield_client::Frame, b: &hounsfield_client::Frame) -> f64 {
    let (wa, ha, a) = a.decode_rgba().expect("decodes");
    let (wb, hb, b) = b.decode_rgba().expect("decodes");
    assert_eq!((wa, ha), (wb, hb), "frames of one size");
    crate::render::mean_rgb_difference(&a, 4, &b, 4)
}

/// Creates a finding of `kind` by `points` (fractions of the cell) on `cell` and returns
/// it as the server measured it (the `findings` that opening a series told first are
/// passed over; any other answer fails the test).
pub async fn drawn_finding(
    client: &mut hounsfield_client::Client,
    kind: &str,
    cell: &str,
    points: &[[f64; 2]],
) -> hounsfield_protocol::FindingInfo {
    use hounsfield_protocol::{ClientMessage, FindingAction, FindingRequest, ServerMessage};
    let request = FindingRequest {
        action: FindingAction::Create,
        id: None,
        kind: Some(kind.to_string()),
        cell: Some(cell.to_string()),
        points: points.to_vec(),
        note: None,
    };
    client
        .send(&ClientMessage::Finding(request))
        .await
        .expect("sent");
    loop {
        match next_answer(client).await {
            ServerMessage::Finding(info) => return info,
            ServerMessage::Findings { .. } => {}
            other => panic!("a finding, not {other:?}"),
        }
    }
}

/// The next message a session answers that is not a frame, a load's progress or a figure
/// the server sends unasked (`stats`, `crosshair`, `view`).
pub async fn next_answer(
    client: &mut hounsfield_client::Client,
) -> hounsfield_protocol::ServerMessage {
    use hounsfield_client::Event;
    use hounsfield_protocol::ServerMessage;
    loop {
        match client.next_event().await.expect("the session lives") {
            Event::Message(
                ServerMessage::Stats(_)
                | ServerMessage::Progress(_)
                | ServerMessage::Crosshair { .. }
                | ServerMessage::View { .. },
            )
            | Event::Frame(_) => {}
            Event::Message(message) => return message,
        }
    }
}
