//! A real Orthanc (Debian's `orthanc` and `orthanc-dicomweb`) for the DICOMweb and DICOM
//! networking tests: started in the foreground on free loopback ports with a configuration
//! written into a temporary folder (storage there too, no remote access, no peers, and no
//! modalities but those a test names on loopback, so it reaches no network), filled
//! through its REST API, killed when dropped.
//!
//! A Lua filter sees every HTTP request: it appends `METHOD URI` to a log the tests read
//! (how many instances were retrieved), refuses DICOMweb requests without the bearer token
//! when one is set, and refuses (or holds) requests whose URI matches a line of a "fail"
//! (or "slow") file, so a test can make the PACS answer errors for one instance and for
//! the series it belongs to. A line matches a URI that contains it, or, ending in `$`,
//! one that ends with the rest of it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Where Debian installs the DICOMweb plugin.
const PLUGIN_CANDIDATES: &[&str] = &[
    "/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
    "/usr/lib/orthanc/libOrthancDicomWeb.so",
];
/// Longest wait for Orthanc to answer after it starts.
const START_LIMIT: Duration = Duration::from_secs(30);

/// A running Orthanc; killed on drop.
pub struct Orthanc {
    child: Option<Child>,
    dir: TempDir,
    http_port: u16,
    dicom_port: u16,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Orthanc {
    /// Starts Orthanc with the DICOMweb plugin; DICOMweb requests need `Bearer token`
    /// when a token is given. Retries with other ports when a port was taken meanwhile.
    pub fn start(token: Option<&str>) -> Orthanc {
        Self::start_requiring(
            &token
                .map(|token| format!("Bearer {token}"))
                .unwrap_or_default(),
        )
    }

    /// Starts Orthanc whose DICOMweb requests need HTTP basic authentication as `user`
    /// with `password`.
    pub fn start_with_basic_auth(user: &str, password: &str) -> Orthanc {
        use base64::Engine as _;
        let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Self::start_requiring(&format!("Basic {pair}"))
    }

    /// Starts Orthanc whose DICOMweb requests must carry this `Authorization` header
    /// (empty: none needed).
    fn start_requiring(authorization: &str) -> Orthanc {
        Self::start_configured(&Dicom {
            authorization,
            dicomweb: true,
            modalities: &[],
        })
    }

    /// Starts Orthanc as a PACS that speaks DICOM networking alone (DICOMweb off), knowing
    /// `modalities` (AE title and loopback port): the callers of its C-FIND and the
    /// destinations of its C-MOVE.
    pub fn start_dicom_only(modalities: &[(&str, u16)]) -> Orthanc {
        Self::start_configured(&Dicom {
            authorization: "",
            dicomweb: false,
            modalities,
        })
    }

    /// Starts Orthanc answering both DICOMweb (without credentials) and DICOM networking,
    /// knowing `modalities` as [`Self::start_dicom_only`] does.
    pub fn start_with_modalities(modalities: &[(&str, u16)]) -> Orthanc {
        Self::start_configured(&Dicom {
            authorization: "",
            dicomweb: true,
            modalities,
        })
    }

    /// Its DICOM port.
    pub fn dicom_port(&self) -> u16 {
        self.dicom_port
    }

    fn start_configured(dicom: &Dicom<'_>) -> Orthanc {
        // The process's rustls provider, which reqwest asks for.
        hounsfield_tls::provider();
        let mut last_error = String::new();
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let (http_port, dicom_port) = (free_port(), free_port());
            if http_port == dicom_port {
                continue;
            }
            write_configuration(dir.path(), http_port, dicom_port, dicom);
            let log = std::fs::File::create(dir.path().join("orthanc.log")).expect("a log file");
            let child = Command::new(orthanc_binary())
                .arg(dir.path().join("orthanc.json"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("the log again"))
                .stderr(log)
                .spawn()
                .expect("Orthanc starts (install it with scripts/setup-debian.sh)");
            let mut orthanc = Orthanc {
                child: Some(child),
                dir,
                http_port,
                dicom_port,
                runtime: tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the harness's requests"),
                // No idle connections kept: Orthanc closes them after a second.
                client: reqwest::Client::builder()
                    .no_proxy()
                    .pool_max_idle_per_host(0)
                    .timeout(Duration::from_secs(60))
                    .build()
                    .expect("an HTTP client"),
            };
            match orthanc.wait_until_up() {
                Ok(()) => return orthanc,
                // A port taken between our check and Orthanc's bind: try others.
                Err(error) => last_error = error,
            }
        }
        panic!("Orthanc did not start: {last_error}");
    }

    /// The DICOMweb base URL.
    pub fn dicomweb_url(&self) -> String {
        format!("http://127.0.0.1:{}/dicom-web", self.http_port)
    }

    /// The REST API's root.
    pub fn rest_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    fn wait_until_up(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_LIMIT;
        let url = format!("{}/system", self.rest_url());
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(format!("exited with {status}: {}", self.log()));
            }
            let answer = self
                .runtime
                .block_on(async { self.client.get(&url).send().await });
            if answer.is_ok_and(|a| a.status().is_success()) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "no answer from {url} in {START_LIMIT:?}: {}",
            self.log()
        ))
    }

    /// Orthanc's own log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("orthanc.log")).unwrap_or_default()
    }

    /// Uploads one DICOM file's bytes (`POST /instances`); returns Orthanc's instance id.
    pub fn upload(&self, bytes: Vec<u8>) -> String {
        let url = format!("{}/instances", self.rest_url());
        let answer: serde_json::Value = self.runtime.block_on(async {
            let answer = self
                .client
                .post(&url)
                .body(bytes)
                .send()
                .await
                .unwrap_or_else(|e| panic!("POST {url}: {e}"));
            assert!(
                answer.status().is_success(),
                "POST {url}: {}",
                answer.status()
            );
            let body = answer.bytes().await.expect("Orthanc's answer");
            serde_json::from_slice(&body).expect("Orthanc answers JSON")
        });
        answer["ID"]
            .as_str()
            .unwrap_or_else(|| panic!("POST {url}: no ID in {answer}"))
            .to_string()
    }

    /// Uploads every DICOM file (DICM at byte 128) under a folder; returns how many.
    pub fn upload_folder(&self, folder: &Path) -> usize {
        let mut uploaded = 0;
        for file in crate::data::dicom_files_under(folder) {
            let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            self.upload(bytes);
            uploaded += 1;
        }
        assert!(uploaded > 0, "{}: no DICOM file", folder.display());
        uploaded
    }

    /// Deletes an instance by Orthanc's id.
    pub fn delete_instance(&self, id: &str) {
        let url = format!("{}/instances/{id}", self.rest_url());
        self.runtime.block_on(async {
            let answer = self
                .client
                .delete(&url)
                .send()
                .await
                .unwrap_or_else(|e| panic!("DELETE {url}: {e}"));
            assert!(
                answer.status().is_success(),
                "DELETE {url}: {}",
                answer.status()
            );
        });
    }

    /// Orthanc's id of the instance with this SOPInstanceUID.
    pub fn instance_id(&self, sop_uid: &str) -> String {
        let url = format!("{}/tools/lookup", self.rest_url());
        let answer: serde_json::Value = self.runtime.block_on(async {
            self.client
                .post(&url)
                .body(sop_uid.to_string())
                .send()
                .await
                .unwrap_or_else(|e| panic!("POST {url}: {e}"))
                .bytes()
                .await
                .map(|body| serde_json::from_slice(&body).expect("Orthanc answers JSON"))
                .expect("Orthanc's answer")
        });
        answer
            .as_array()
            .and_then(|found| found.iter().find(|f| f["Type"] == "Instance"))
            .and_then(|f| f["ID"].as_str())
            .unwrap_or_else(|| panic!("no instance {sop_uid} in Orthanc: {answer}"))
            .to_string()
    }

    /// Every request Orthanc has received so far, as `METHOD URI`.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("requests.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// How many instance retrievals (WADO-RS `/instances/UID`) Orthanc has received.
    pub fn instance_retrievals(&self) -> usize {
        self.requests()
            .iter()
            .filter(|line| line.starts_with("GET /dicom-web/") && line.contains("/instances/"))
            .count()
    }

    /// How many whole-series retrievals (WADO-RS `/studies/UID/series/UID`) Orthanc has
    /// received.
    pub fn series_retrievals(&self) -> usize {
        self.requests()
            .iter()
            .filter(|line| line.starts_with("GET /dicom-web/") && is_series_retrieval(line))
            .count()
    }

    /// Makes Orthanc refuse (403) every request whose URI matches one of `patterns` (see
    /// the module's doc); none: refuse nothing.
    pub fn fail_requests_matching(&self, patterns: &[&str]) {
        std::fs::write(self.dir.path().join("fail.txt"), lines(patterns))
            .expect("the fail file is written");
    }

    /// Makes Orthanc hold (about 20 s) every request whose URI matches one of `patterns`.
    pub fn hold_requests_matching(&self, patterns: &[&str]) {
        std::fs::write(self.dir.path().join("slow.txt"), lines(patterns))
            .expect("the slow file is written");
    }

    /// Kills Orthanc now.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Orthanc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port free on the loopback interface now (bound, then released).
/// The pattern that matches the whole-series retrieval of `series_uid` (not its metadata
/// nor its instances).
pub fn series_retrieval_pattern(series_uid: &str) -> String {
    format!("/series/{series_uid}$")
}

/// Whether a URI (or a logged request, `GET URI`) asks for a whole series
/// (`…/studies/UID/series/UID`, not its metadata nor its instances).
pub fn is_series_retrieval(line: &str) -> bool {
    let path = line.split('?').next().unwrap_or_default();
    path.contains("/studies/") && path.rsplit('/').nth(1) == Some("series")
}

fn lines(patterns: &[&str]) -> String {
    patterns.iter().map(|p| format!("{p}\n")).collect()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The Orthanc binary: `ORTHANC` when set, else Debian's.
fn orthanc_binary() -> PathBuf {
    std::env::var_os("ORTHANC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/Orthanc"))
}

/// The DICOMweb plugin's library.
fn plugin() -> &'static str {
    PLUGIN_CANDIDATES
        .iter()
        .copied()
        .find(|path| Path::new(path).exists())
        .expect("the orthanc-dicomweb package is installed (scripts/setup-debian.sh)")
}

/// Writes the Lua filter and Orthanc's configuration into `dir`.
/// How an Orthanc is set up: the `Authorization` its DICOMweb requests need (empty: none),
/// whether DICOMweb is on, and the modalities it knows.
struct Dicom<'a> {
    authorization: &'a str,
    dicomweb: bool,
    modalities: &'a [(&'a str, u16)],
}

fn write_configuration(dir: &Path, http_port: u16, dicom_port: u16, dicom: &Dicom<'_>) {
    let authorization = dicom.authorization;
    let modalities: serde_json::Map<String, serde_json::Value> = dicom
        .modalities
        .iter()
        .map(|(ae, port)| (ae.to_string(), serde_json::json!([ae, "127.0.0.1", port])))
        .collect();
    let quoted = |path: PathBuf| serde_json::to_string(&path.display().to_string()).expect("text");
    let lua = format!(
        r#"-- Written by the DICOMweb tests: logs each request, checks the credentials, fails on demand.
local LOG = {log}
local FAIL = {fail}
local SLOW = {slow}
local AUTHORIZATION = {authorization}
-- Whether the URI contains the line, or ends with it when the line ends with "$".
local function matches(uri, line)
  if line == "" then
    return false
  end
  if string.sub(line, -1) == "$" then
    local ending = string.sub(line, 1, -2)
    return string.sub(uri, -#ending) == ending
  end
  return string.find(uri, line, 1, true) ~= nil
end
local function any_line_matches(path, uri)
  local file = io.open(path, "r")
  if not file then
    return false
  end
  for line in file:lines() do
    if matches(uri, line) then
      file:close()
      return true
    end
  end
  file:close()
  return false
end
function IncomingHttpRequestFilter(method, uri, ip, username, httpHeaders)
  local log = io.open(LOG, "a")
  log:write(method .. " " .. uri .. "\n")
  log:close()
  if AUTHORIZATION ~= "" and string.find(uri, "/dicom-web/", 1, true) == 1
      and httpHeaders["authorization"] ~= AUTHORIZATION then
    return false
  end
  if any_line_matches(SLOW, uri) then
    -- Hold this request (busy: Lua has no sleep) until the test kills Orthanc.
    local start = os.clock()
    while os.clock() - start < 20 do end
  end
  return not any_line_matches(FAIL, uri)
end
"#,
        log = quoted(dir.join("requests.log")),
        fail = quoted(dir.join("fail.txt")),
        slow = quoted(dir.join("slow.txt")),
        authorization = serde_json::to_string(authorization).expect("text"),
    );
    std::fs::write(dir.join("filter.lua"), lua).expect("the Lua filter is written");
    let storage = dir.join("storage");
    let configuration = serde_json::json!({
        "Name": "hounsfield-test",
        "StorageDirectory": storage,
        "IndexDirectory": storage,
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "DicomAet": "HOUNSFIELDTEST",
        "RemoteAccessAllowed": false,
        "AuthenticationEnabled": false,
        "HttpCompressionEnabled": false,
        "OverwriteInstances": true,
        "SaveJobs": false,
        "DicomModalities": modalities,
        "OrthancPeers": {},
        "Plugins": [plugin()],
        "LuaScripts": [dir.join("filter.lua")],
        "DicomWeb": {
            "Enable": dicom.dicomweb,
            "Root": "/dicom-web/",
            "EnableWado": false,
            "Servers": {}
        }
    });
    std::fs::write(
        dir.join("orthanc.json"),
        serde_json::to_string_pretty(&configuration).expect("JSON"),
    )
    .expect("the configuration is written");
}
