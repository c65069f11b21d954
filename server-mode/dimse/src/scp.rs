//! The Storage SCP: a listener whose associations each run on a thread of their own, at
//! most [`MOST_ASSOCIATIONS`] at once and [`AssociationsPerMinute`] from one address;
//! callers not allowed are rejected at association (A-ASSOCIATE-RJ), and what each
//! association stored is told to the server when it ends.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dicom_ul::association::server::AccessControl;
use dicom_ul::pdu::{AssociationRJServiceUserReason, PDataValueType, Pdu, UserIdentity};
use dicom_ul::{ServerAssociation, ServerAssociationOptions};

use crate::callers::{Callers, ae_title};
use crate::command::{self, C_ECHO_RQ, C_STORE_RQ, Command, MOST_COMMAND_BYTES, Status};
use crate::store::{Incoming, StoreFolder};

/// Associations served at once; a caller past them is let go before it associates.
pub const MOST_ASSOCIATIONS: usize = 8;
/// The longest PDU this SCP receives (announced at association; a longer one ends it).
pub const MOST_PDU_BYTES: u32 = 64 << 10;
/// How long an association may send nothing before it is let go.
pub const ASSOCIATION_IDLE: Duration = Duration::from_secs(30);
/// How long a caller has to ask for an association once connected.
const ASSOCIATE_WITHIN: Duration = Duration::from_secs(10);

/// Why a caller was let go or rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Its address.
    pub peer: SocketAddr,
    /// The calling AE title it sent (empty when it sent none).
    pub calling_ae: String,
    /// Why, in words.
    pub reason: String,
}

/// What one association stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssociationReport {
    /// The caller's address.
    pub peer: Option<SocketAddr>,
    /// Its AE title.
    pub calling_ae: String,
    /// Instances stored.
    pub stored: usize,
    /// Instances that were stored already (answered as stored).
    pub duplicates: usize,
    /// Instances refused (each answered with its status).
    pub refused: usize,
    /// Bytes of the instances stored.
    pub bytes: u64,
    /// Each study and series that received an instance: `(StudyInstanceUID,
    /// SeriesInstanceUID)`.
    pub series: BTreeSet<(String, String)>,
}

/// What the server does with associations: told each refusal and each association's end.
pub trait Reception: Send + Sync + 'static {
    /// A caller was let go or rejected.
    fn refused(&self, refusal: &Refusal);
    /// An association ended (released, aborted or timed out).
    fn ended(&self, report: &AssociationReport);
}

/// Associations let in from one address in a minute.
#[derive(Debug)]
pub struct AssociationsPerMinute {
    most: usize,
    /// Each address's count in the minute that began at its instant.
    counts: HashMap<IpAddr, (Instant, usize)>,
}

/// Addresses whose counts are kept at once (past them, those out of their minute go).
const MOST_COUNTED_ADDRESSES: usize = 4096;

impl AssociationsPerMinute {
    /// At most `most` a minute from each address.
    pub fn new(most: usize) -> Self {
        Self {
            most,
            counts: HashMap::new(),
        }
    }

    /// Counts an association from `address` at `now`: whether it may go on.
    pub fn admit(&mut self, address: IpAddr, now: Instant) -> bool {
        const MINUTE: Duration = Duration::from_secs(60);
        if self.counts.len() >= MOST_COUNTED_ADDRESSES {
            self.counts
                .retain(|_, (since, _)| now.duration_since(*since) < MINUTE);
            if self.counts.len() >= MOST_COUNTED_ADDRESSES {
                return false;
            }
        }
        let (since, count) = self.counts.entry(address).or_insert((now, 0));
        if now.duration_since(*since) >= MINUTE {
            (*since, *count) = (now, 0);
        }
        *count += 1;
        *count <= self.most
    }
}

/// The Storage SCP, bound and not yet serving.
pub struct StorageScp {
    listener: TcpListener,
    ae_title: String,
    callers: Callers,
    store: Arc<StoreFolder>,
    per_minute: usize,
}

impl StorageScp {
    /// Binds `address` for the AE `ae_title`, storing into `store` what `callers` send,
    /// at most `per_minute` associations a minute from one address.
    pub fn bind(
        address: SocketAddr,
        ae_title: &str,
        callers: Callers,
        store: Arc<StoreFolder>,
        per_minute: usize,
    ) -> std::io::Result<Self> {
        let title = crate::callers::ae_title(ae_title).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("AE title \"{ae_title}\": 1 to 16 characters, no backslash"),
            )
        })?;
        Ok(Self {
            listener: TcpListener::bind(address)?,
            ae_title: title,
            callers,
            store,
            per_minute,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves associations on a thread of its own, for as long as the process runs.
    pub fn serve(self, reception: Arc<dyn Reception>) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name("dicom-listener".to_string())
            .spawn(move || self.accept_loop(&reception))
            .map(|_| ())
    }

    fn accept_loop(self, reception: &Arc<dyn Reception>) {
        let open = Arc::new(AtomicUsize::new(0));
        let rate = Mutex::new(AssociationsPerMinute::new(self.per_minute));
        let shared = Arc::new(Shared {
            ae_title: self.ae_title,
            callers: self.callers,
            store: self.store,
        });
        for stream in self.listener.incoming() {
            let stream = match stream {
                Ok(stream) => stream,
                Err(error) => {
                    tracing::warn!(%error, "a DICOM connection could not be accepted");
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            let Ok(peer) = stream.peer_addr() else {
                continue;
            };
            let refuse = |reason: &str| {
                reception.refused(&Refusal {
                    peer,
                    calling_ae: String::new(),
                    reason: reason.to_string(),
                });
            };
            let admitted = rate
                .lock()
                .map(|mut rate| rate.admit(peer.ip(), Instant::now()))
                .unwrap_or(false);
            if !admitted {
                refuse("too many associations from this address in a minute");
                continue;
            }
            if open.fetch_add(1, Ordering::AcqRel) >= MOST_ASSOCIATIONS {
                open.fetch_sub(1, Ordering::AcqRel);
                refuse("as many associations as this server serves at once");
                continue;
            }
            let (open_here, shared, reception) = (open.clone(), shared.clone(), reception.clone());
            let spawned = std::thread::Builder::new()
                .name("dicom-association".to_string())
                .spawn(move || {
                    shared.associate(stream, peer, &*reception);
                    open_here.fetch_sub(1, Ordering::AcqRel);
                });
            if spawned.is_err() {
                open.fetch_sub(1, Ordering::AcqRel);
                refuse("no thread for the association");
            }
        }
    }
}

/// What every association thread reads.
struct Shared {
    ae_title: String,
    callers: Callers,
    store: Arc<StoreFolder>,
}

/// The access rule of one connection: its address known, the caller's titles checked
/// against the callers allowed and this SCP's own title; what was asked is kept to tell.
struct Access<'a> {
    callers: &'a Callers,
    peer: IpAddr,
    /// The calling AE title the caller sent.
    calling: &'a RefCell<Option<String>>,
}

impl AccessControl for Access<'_> {
    fn check_access(
        &self,
        this_ae_title: &str,
        calling_ae_title: &str,
        called_ae_title: &str,
        _user_identity: Option<&UserIdentity>,
    ) -> Result<(), AssociationRJServiceUserReason> {
        *self.calling.borrow_mut() = Some(calling_ae_title.trim().to_string());
        if ae_title(called_ae_title).as_deref() != Some(this_ae_title) {
            return Err(AssociationRJServiceUserReason::CalledAETitleNotRecognized);
        }
        if !self.callers.allows(calling_ae_title, self.peer) {
            return Err(AssociationRJServiceUserReason::CallingAETitleNotRecognized);
        }
        Ok(())
    }
}

impl Shared {
    /// Negotiates an association with the caller at `peer` and serves it to its end.
    fn associate(&self, stream: TcpStream, peer: SocketAddr, reception: &dyn Reception) {
        // Each response is a small write the caller waits for: sent at once, not held
        // back for more (Nagle's algorithm).
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(ASSOCIATE_WITHIN));
        let _ = stream.set_write_timeout(Some(ASSOCIATION_IDLE));
        let calling = RefCell::new(None);
        let access = Access {
            callers: &self.callers,
            peer: peer.ip(),
            calling: &calling,
        };
        // Any storage SOP class (and Verification) in any transfer syntax the registry
        // reads: the data set is stored as it comes, not decoded here.
        let options = ServerAssociationOptions::new()
            .ae_access_control(access)
            .ae_title(self.ae_title.as_str())
            .promiscuous(true)
            .strict(true)
            .max_pdu_length(MOST_PDU_BYTES);
        let established = options.establish(stream);
        let calling_ae = calling.borrow_mut().take();
        let mut association = match established {
            Ok(association) => association,
            Err(error) => {
                reception.refused(&Refusal {
                    peer,
                    calling_ae: calling_ae.unwrap_or_default(),
                    reason: format!("association not established: {error}"),
                });
                return;
            }
        };
        let _ = association
            .inner_stream()
            .set_read_timeout(Some(ASSOCIATION_IDLE));
        let mut report = AssociationReport {
            peer: Some(peer),
            calling_ae: calling_ae.unwrap_or_default(),
            ..AssociationReport::default()
        };
        if let Err(why) = self.serve(&mut association, &mut report) {
            tracing::info!(%peer, calling_ae = %report.calling_ae, %why, "DICOM association ended");
            let _ = association.abort();
        }
        reception.ended(&report);
    }

    /// Answers the association's commands until it is released.
    fn serve(
        &self,
        association: &mut ServerAssociation<TcpStream>,
        report: &mut AssociationReport,
    ) -> Result<(), String> {
        let mut command_bytes: Vec<u8> = Vec::new();
        // The request whose data set is arriving, and its file (or why it is refused).
        let mut storing: Option<(Command, u8, Result<Incoming, Status>)> = None;
        loop {
            let pdu = association.receive().map_err(|error| error.to_string())?;
            acknowledge_at_once(association.inner_stream());
            let values = match pdu {
                Pdu::PData { data } => data,
                Pdu::ReleaseRQ => {
                    return association
                        .send(&Pdu::ReleaseRP)
                        .map_err(|error| error.to_string());
                }
                Pdu::AbortRQ { .. } => return Ok(()),
                other => return Err(format!("unexpected {}", other.short_description())),
            };
            for value in values {
                match value.value_type {
                    PDataValueType::Command => {
                        if command_bytes.len() + value.data.len() > MOST_COMMAND_BYTES {
                            return Err(format!("a command set over {MOST_COMMAND_BYTES} bytes"));
                        }
                        command_bytes.extend_from_slice(&value.data);
                        if !value.is_last {
                            continue;
                        }
                        let asked = command::read(&command_bytes).map_err(|e| e.to_string())?;
                        command_bytes.clear();
                        let context = value.presentation_context_id;
                        if asked.field == C_ECHO_RQ {
                            answer(association, &asked, context, Status::Success)?;
                        } else if asked.has_data_set {
                            // A C-STORE's data set is stored; another's is read and let
                            // go, then refused.
                            let incoming = if asked.field == C_STORE_RQ {
                                self.begin(association, &asked, context, report)
                            } else {
                                Err(Status::UnrecognizedOperation)
                            };
                            storing = Some((asked, context, incoming));
                        } else {
                            answer(association, &asked, context, Status::UnrecognizedOperation)?;
                        }
                    }
                    PDataValueType::Data => {
                        let Some((_, _, incoming)) = &mut storing else {
                            return Err("a data set without its command".to_string());
                        };
                        if let Ok(incoming) = incoming {
                            incoming.write(&self.store, &value.data);
                        }
                        if value.is_last
                            && let Some((asked, context, incoming)) = storing.take()
                        {
                            let status = self.finish(&asked, incoming, report);
                            answer(association, &asked, context, status)?;
                        }
                    }
                }
            }
        }
    }

    /// Starts storing the instance `asked` announces, in its context's transfer syntax.
    fn begin(
        &self,
        association: &ServerAssociation<TcpStream>,
        asked: &Command,
        context: u8,
        report: &AssociationReport,
    ) -> Result<Incoming, Status> {
        let syntax = context_syntax(association.presentation_contexts(), context)?;
        self.store.begin(
            &asked.sop_class,
            &asked.sop_instance,
            &syntax,
            &report.calling_ae,
        )
    }

    /// The status of a data set received whole (`incoming`: why it was refused at its
    /// start, if it was), counted in `report`.
    fn finish(
        &self,
        asked: &Command,
        incoming: Result<Incoming, Status>,
        report: &mut AssociationReport,
    ) -> Status {
        match incoming.and_then(|incoming| self.store.finish(incoming)) {
            Ok(stored) => {
                if stored.duplicate {
                    report.duplicates += 1;
                } else {
                    report.stored += 1;
                    report.bytes += stored.bytes;
                }
                report.series.insert((stored.study, stored.series));
                Status::Success
            }
            Err(status) => {
                report.refused += 1;
                tracing::info!(sop_instance = %asked.sop_instance, ?status, "a C-STORE refused");
                status
            }
        }
    }
}

/// The transfer syntax of presentation context `id` among those `contexts` negotiated
/// (an instance arriving on another cannot be understood).
pub(crate) fn context_syntax(
    contexts: &[dicom_ul::pdu::PresentationContextNegotiated],
    id: u8,
) -> Result<String, Status> {
    contexts
        .iter()
        .find(|pc| pc.id == id)
        .map(|pc| pc.transfer_syntax.trim_end_matches('\0').to_string())
        .ok_or(Status::CannotUnderstand)
}

/// Acknowledges what arrives at once rather than after the delayed-ACK timer (Linux's
/// quick-ack mode, which the kernel leaves again by itself, so it is set after each PDU).
/// A caller that sends a C-STORE's command and data set as separate small writes with
/// Nagle's algorithm on (Orthanc's C-MOVE, DCMTK's storescu) otherwise waits about 40 ms
/// an instance for the acknowledgement of the first.
pub(crate) fn acknowledge_at_once(stream: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = stream;
}

/// Sends the response to `asked` on `context` with `status`.
fn answer(
    association: &mut ServerAssociation<TcpStream>,
    asked: &Command,
    context: u8,
    status: Status,
) -> Result<(), String> {
    let data = command::response(asked, status).map_err(|error| error.to_string())?;
    association
        .send(&command::command_pdu(context, data))
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_associations_a_minute_and_then_waits() {
        let mut rate = AssociationsPerMinute::new(2);
        let (here, there) = (IpAddr::from([127, 0, 0, 1]), IpAddr::from([10, 0, 0, 1]));
        let now = Instant::now();
        assert!(rate.admit(here, now));
        assert!(rate.admit(here, now));
        assert!(!rate.admit(here, now));
        assert!(rate.admit(there, now), "each address its own count");
        assert!(rate.admit(here, now + Duration::from_secs(61)));
    }
}
