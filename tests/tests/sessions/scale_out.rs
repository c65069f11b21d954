//! Scale-out: three `hounsfield --serve` render nodes behind Debian's HAProxy, configured
//! as the Kubernetes manifests configure it (`installers/kubernetes/haproxy.cfg`, with its
//! cluster-only DNS lines left out and loopback addresses for the pods'), all on loopback
//! with TLS from a CA of the test's own:
//! - twelve sessions spread over the nodes by load (leastconn);
//! - a client that reconnects naming its node (`?node=`) reaches it, even when another
//!   node is less loaded;
//! - a follower of a shared session reaches the host's node through the share link;
//! - a node stopped (SIGTERM) closes its sessions with "going away", its clients come back
//!   on the other nodes with their view (`set_view` with the last `view`), and the other
//!   nodes' clients keep getting frames all along.
//!
//! The nodes are the `hounsfield` binary the workspace builds (beside this test's own
//! executable); HAProxy is Debian's (`scripts/setup-debian.sh` installs it).

use hounsfield_test_support as support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hounsfield_client::Client;
use hounsfield_client::{ClientError, Event, Frame};
use hounsfield_protocol::{Action, ServerMessage, SharedView, Viewport};
use hounsfield_tls::ServerTrust;
use support::certificates::TestCa;

/// The nodes, named as the StatefulSet names its pods.
const NODES: [&str; 3] = ["hounsfield-0", "hounsfield-1", "hounsfield-2"];
/// Sessions spread over them.
const SESSIONS: usize = 12;
/// The built-in sample's series id.
const SERIES: &str = "phantom";
/// A small frame: twelve sessions render on two cores.
const VIEWPORT: Viewport = Viewport {
    width: 192,
    height: 144,
};
/// How long any one step may take before the test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(60);
/// The longest a surviving node's client may go without a frame while it drags.
const LONGEST_GAP: Duration = Duration::from_secs(5);

/// A `hounsfield --serve` node, stopped (and waited for) when dropped.
struct Node {
    name: &'static str,
    child: Child,
    port: u16,
}

impl Node {
    /// Starts node `name` on a free loopback port with the CA-issued certificate in
    /// `folder`, and waits until it serves.
    fn start(name: &'static str, folder: &Path, ca: &TestCa) -> Self {
        let issued = ca.issue(folder, name, &["localhost"]);
        let mut child = Command::new(support::hounsfield_binary())
            .args(["--serve", "--bind", "127.0.0.1", "--port", "0"])
            .args(["--node-name", name, "--h264", "off", "--max-sessions", "12"])
            .arg("--tls-cert")
            .arg(&issued.files.certificate)
            .arg("--tls-key")
            .arg(&issued.files.key)
            .arg("--state-dir")
            .arg(folder.join(format!("{name}-state")))
            .env_remove("HOUNSFIELD_NODE_NAME")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the hounsfield binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, ports) = std::sync::mpsc::sync_channel(1);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = support::served::served_port(&line) {
                    let _ = sender.send(port);
                }
            }
        });
        let port = ports
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("{name} did not say where it serves"));
        Self { name, child, port }
    }

    /// Asks the node to stop as systemd and Kubernetes do (SIGTERM).
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM sent to {}", self.name);
    }

    /// Waits for the node to exit; its exit status.
    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("the node's status") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit after SIGTERM",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// HAProxy in the foreground, stopped when dropped.
struct Proxy {
    child: Child,
    port: u16,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The manifests' HAProxy configuration made to run here: the cluster-only lines out,
/// the listening address on loopback, the pods' addresses the nodes' ports, and the
/// certificate paths in `folder`. Nothing else changes: placement, persistence, checks
/// and redispatch are the cluster's.
fn proxy_configuration(nodes: &[Node], port: u16, folder: &Path) -> String {
    let manifest =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../installers/kubernetes/haproxy.cfg");
    let text = std::fs::read_to_string(&manifest).expect("the manifests' haproxy.cfg");
    let mut configuration: String = text
        .lines()
        .filter(|line| !line.contains("# cluster only"))
        .map(|line| format!("{line}\n"))
        .collect();
    let replacements = [
        ("bind :8443".to_string(), format!("bind 127.0.0.1:{port}")),
        (
            "/etc/hounsfield-proxy/tls/".to_string(),
            format!("{}/", folder.display()),
        ),
    ];
    for (from, to) in replacements.iter().cloned().chain(nodes.iter().map(|node| {
        (
            format!(
                "{}.hounsfield-nodes.hounsfield.svc.cluster.local:8443",
                node.name
            ),
            format!("127.0.0.1:{}", node.port),
        )
    })) {
        assert!(configuration.contains(&from), "haproxy.cfg has no {from:?}");
        configuration = configuration.replace(&from, &to);
    }
    configuration
}

/// Starts HAProxy on a free loopback port in front of `nodes`.
fn start_proxy(nodes: &[Node], folder: &Path, ca: &TestCa) -> Proxy {
    let issued = ca.issue(folder, "proxy", &["localhost"]);
    let mut pem = std::fs::read_to_string(&issued.files.certificate).expect("certificate");
    pem.push_str(&std::fs::read_to_string(&issued.files.key).expect("key"));
    std::fs::write(folder.join("proxy.pem"), pem).expect("proxy.pem");
    std::fs::copy(&ca.certificate, folder.join("nodes-ca.pem")).expect("nodes-ca.pem");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let configuration = folder.join("haproxy.cfg");
    std::fs::write(&configuration, proxy_configuration(nodes, port, folder)).expect("written");
    let haproxy = std::env::var("HOUNSFIELD_HAPROXY").unwrap_or_else(|_| "haproxy".into());
    let check = Command::new(&haproxy)
        .arg("-c")
        .arg("-f")
        .arg(&configuration)
        .output()
        .expect("haproxy runs (scripts/setup-debian.sh installs it)");
    assert!(
        check.status.success(),
        "haproxy -c: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let child = Command::new(&haproxy)
        .arg("-db")
        .arg("-f")
        .arg(&configuration)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("haproxy starts");
    let deadline = Instant::now() + PATIENCE;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "haproxy does not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Proxy { child, port }
}

/// A thin client's session through the proxy: its node, and the view and still it shows
/// at rest.
struct Session {
    client: Client,
    node: String,
    view: SharedView,
    still: Vec<u8>,
}

/// Connects through the proxy (`query` after `/ws`), says hello and opens the series.
async fn connect(port: u16, query: &str, trust: &ServerTrust) -> (Client, String) {
    let url = format!("wss://127.0.0.1:{port}/ws{query}");
    let mut client = tokio::time::timeout(PATIENCE, Client::connect_trusting(&url, trust))
        .await
        .expect("connected in time")
        .unwrap_or_else(|error| panic!("{url}: {error}"));
    let welcome = client
        .hello_offering(None, VIEWPORT, &[hounsfield_protocol::Codec::Jpeg])
        .await
        .expect("welcome");
    let node = welcome.node.expect("a node of several says its name");
    (client, node)
}

/// Reads until the view at rest after input `seq` and its final still have come.
async fn settle(client: &mut Client, seq: u32) -> (SharedView, Vec<u8>) {
    let mut view = None;
    let mut still = None;
    tokio::time::timeout(PATIENCE, async {
        while view.is_none() || still.is_none() {
            match client.next_event().await.expect("the session lives") {
                Event::Message(ServerMessage::View { seq: at, view: v }) if at >= seq => {
                    view = Some(*v);
                }
                Event::Frame(frame)
                    if frame.header.flags.final_still() && frame.header.input_seq >= seq =>
                {
                    still = Some(pixels(&frame));
                }
                _ => {}
            }
        }
    })
    .await
    .expect("the view came to rest in time");
    (view.expect("a view"), still.expect("a still"))
}

/// A frame's RGBA pixels.
fn pixels(frame: &Frame) -> Vec<u8> {
    frame.decode_rgba().expect("a decodable frame").2
}

/// The mean absolute difference of two pictures, per channel value (0–255).
fn mean_difference(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "pictures of one size");
    let sum: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.len() as f64
}

/// Opens a session through the proxy and turns its camera by `azimuth_deg`, so each
/// session shows its own view.
async fn open_session(port: u16, query: &str, trust: &ServerTrust, azimuth_deg: f64) -> Session {
    let (mut client, node) = connect(port, query, trust).await;
    client.open(SERIES).await.expect("opened");
    let seq = client
        .input(Action::Orbit {
            dx: azimuth_deg,
            dy: 0.0,
        })
        .await
        .expect("input sent");
    let (view, still) = settle(&mut client, seq).await;
    Session {
        client,
        node,
        view,
        still,
    }
}

/// What a dragging client saw while a node went away.
struct Watched {
    node: String,
    frames: usize,
    longest_gap: Duration,
}

/// Drags until `stop` turns true, timing the gaps between frames; fails on a closed socket.
async fn drag_until(mut session: Session, mut stop: tokio::sync::watch::Receiver<bool>) -> Watched {
    let mut frames = 0;
    let mut last = Instant::now();
    let mut longest_gap = Duration::ZERO;
    let mut tick = tokio::time::interval(Duration::from_millis(150));
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tick.tick() => {
                session
                    .client
                    .input(Action::Orbit { dx: 1.0, dy: 0.0 })
                    .await
                    .unwrap_or_else(|error| panic!("{}'s client could not send: {error}", session.node));
            }
            event = session.client.next_event() => match event {
                Ok(Event::Frame(_)) => {
                    longest_gap = longest_gap.max(last.elapsed());
                    last = Instant::now();
                    frames += 1;
                }
                Ok(_) => {}
                Err(error) => panic!("a client of {} lost its session: {error}", session.node),
            },
        }
    }
    longest_gap = longest_gap.max(last.elapsed());
    Watched {
        node: session.node,
        frames,
        longest_gap,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_spread_stick_to_their_node_and_move_when_it_goes_away() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let ca = TestCa::new(folder.path());
    let mut nodes: Vec<Node> = NODES
        .iter()
        .map(|name| Node::start(name, folder.path(), &ca))
        .collect();
    let proxy = start_proxy(&nodes, folder.path(), &ca);
    let trust = ServerTrust {
        ca_files: vec![ca.certificate.clone()],
        pinned: None,
    };

    // Twelve sessions, one after another: each goes to the least-loaded node.
    let mut sessions = Vec::new();
    for n in 0..SESSIONS {
        sessions.push(open_session(proxy.port, "", &trust, 10.0 + 7.0 * n as f64).await);
    }
    let count =
        |sessions: &[Session], node: &str| sessions.iter().filter(|s| s.node == node).count();
    let spread: Vec<usize> = NODES.iter().map(|node| count(&sessions, node)).collect();
    assert_eq!(spread, [4, 4, 4], "sessions per node by load");

    // Two sessions of hounsfield-0 end: it is now the least loaded. A reconnection naming
    // hounsfield-1 still reaches hounsfield-1.
    for _ in 0..2 {
        let at = sessions
            .iter()
            .position(|s| s.node == NODES[0])
            .expect("a session on hounsfield-0");
        let _ = sessions.remove(at).client.close().await;
    }
    let at = sessions
        .iter()
        .position(|s| s.node == NODES[1])
        .expect("a session on hounsfield-1");
    let leaving = sessions.remove(at);
    let _ = leaving.client.close().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let back = open_session(proxy.port, &format!("?node={}", NODES[1]), &trust, 3.0).await;
    assert_eq!(back.node, NODES[1], "the reconnection reached its node");
    sessions.push(back);

    // A share made on hounsfield-2: its link names the node; a follower using it gets
    // there (and joins), although hounsfield-0 is the least loaded.
    let host = sessions
        .iter_mut()
        .find(|s| s.node == NODES[2])
        .expect("a session on hounsfield-2");
    host.client
        .send(&hounsfield_protocol::ClientMessage::Share)
        .await
        .expect("share sent");
    let link = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Event::Message(ServerMessage::Shared { link, .. }) = host
                .client
                .next_event()
                .await
                .expect("the host's session lives")
            {
                break link;
            }
        }
    })
    .await
    .expect("shared in time");
    assert!(
        link.contains(&format!("node={}", NODES[2])),
        "the link names the node: {link}"
    );
    let join = link
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("join="))
        .expect("a join id")
        .to_string();
    let query = format!("?{}", link.trim_start_matches('?'));
    let (mut follower, follower_node) = connect(proxy.port, &query, &trust).await;
    assert_eq!(
        follower_node, NODES[2],
        "the follower reached the host's node"
    );
    follower
        .send(&hounsfield_protocol::ClientMessage::Join { id: join })
        .await
        .expect("join sent");
    tokio::time::timeout(PATIENCE, async {
        loop {
            match follower
                .next_event()
                .await
                .expect("the follower's session lives")
            {
                Event::Message(ServerMessage::Opened(_)) => break,
                Event::Message(ServerMessage::Error { code, message }) => {
                    panic!("join refused: {code:?}: {message}")
                }
                _ => {}
            }
        }
    })
    .await
    .expect("joined in time");
    let _ = follower.close().await;

    // hounsfield-1 goes away while the other nodes' clients drag.
    let (leaving, staying): (Vec<Session>, Vec<Session>) =
        sessions.into_iter().partition(|s| s.node == NODES[1]);
    assert!(!leaving.is_empty() && !staying.is_empty());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let watchers: Vec<_> = staying
        .into_iter()
        .map(|session| tokio::spawn(drag_until(session, stopped.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let going = nodes
        .iter()
        .position(|n| n.name == NODES[1])
        .expect("hounsfield-1");
    nodes[going].terminate();

    for mut session in leaving {
        // A clean close: "going away", with the reason.
        let closed = tokio::time::timeout(PATIENCE, async {
            loop {
                match session.client.next_event().await {
                    Ok(_) => {}
                    Err(error) => break error,
                }
            }
        })
        .await
        .expect("closed in time");
        match &closed {
            ClientError::Closed(Some(reason)) => {
                assert!(reason.contains("shutting down"), "close reason: {reason}")
            }
            other => panic!("not a clean close: {other}"),
        }
        // Back through the proxy, without the node: another node, the same view.
        let (mut client, node) = connect(proxy.port, "", &trust).await;
        assert_ne!(node, NODES[1], "placed on a node that is still there");
        client.open(SERIES).await.expect("reopened");
        let seq = client
            .input(Action::SetView {
                view: Box::new(session.view.clone()),
            })
            .await
            .expect("set_view sent");
        let (view, still) = settle(&mut client, seq).await;
        assert_eq!(view, session.view, "the view handed back is the view shown");
        let difference = mean_difference(&still, &session.still);
        assert!(
            difference < 1.0,
            "the picture on {node} is the one on hounsfield-1 (mean difference {difference:.2} of 255)"
        );
        let _ = client.close().await;
    }
    let status = nodes[going].wait_exit();
    assert!(status.success(), "hounsfield-1 exited cleanly: {status}");

    let _ = stop.send(true);
    for watcher in watchers {
        let watched = watcher.await.expect("a watcher");
        assert!(watched.frames > 0, "{} sent frames", watched.node);
        assert!(
            watched.longest_gap < LONGEST_GAP,
            "a client of {} waited {:?} for a frame while hounsfield-1 went away",
            watched.node,
            watched.longest_gap
        );
    }
}
