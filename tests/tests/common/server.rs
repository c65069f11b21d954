//! Servers for the server-mode tests: started on loopback in a thread of their own (with
//! its own async runtime), sharing one library (the built-in phantom) and one render thread.

use std::net::SocketAddr;
use std::sync::Arc;

use render_core::transfer::PresetLibrary;
use server_mode::{Library, Scheduler, Server, ServerConfig};

/// A config on `127.0.0.1`, any free port, with the server's defaults otherwise.
pub fn loopback_config() -> ServerConfig {
    ServerConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// Starts one server per config and returns their addresses; they run until the test
/// process ends.
pub fn start(configs: Vec<ServerConfig>) -> Vec<SocketAddr> {
    let (ready, addresses) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("test-servers".to_string())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let library = Arc::new(Library::scan(&[], 1 << 30));
                let scheduler = Arc::new(
                    Scheduler::start(PresetLibrary::builtin(), 2)
                        .expect("a GPU adapter (lavapipe at least) is needed"),
                );
                let mut bound = Vec::new();
                for config in configs {
                    bound.push(
                        Server::bind(config, library.clone(), scheduler.clone())
                            .await
                            .expect("binds on loopback"),
                    );
                }
                let addresses: Vec<SocketAddr> = bound
                    .iter()
                    .map(|server| server.local_addr().expect("bound"))
                    .collect();
                ready.send(addresses).expect("the test waits");
                let runs: Vec<_> = bound
                    .into_iter()
                    .map(|server| tokio::spawn(server.run(std::future::pending())))
                    .collect();
                for run in runs {
                    let _ = run.await;
                }
            });
        })
        .expect("the server thread starts");
    addresses.recv().expect("the servers start")
}

/// Runs an async test body on a runtime of its own, failing it when it takes longer than
/// `limit` (a hung test, not a slow one).
pub fn run_within(limit: std::time::Duration, body: impl std::future::Future<Output = ()>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        tokio::time::timeout(limit, body)
            .await
            .expect("the test finished in time");
    });
}
