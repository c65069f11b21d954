//! A series retrieved with C-GET (Study Root): the PACS sends its instances back over the
//! association that asked, as C-STORE requests this SCU answers in the SCP role it
//! negotiated for each storage class (SCP/SCU role selection). No port of ours is listened
//! on and the PACS need not know where we are: what a workstation or the command line
//! retrieves with. Each instance is stored as the Storage SCP stores one
//! ([`StoreFolder`]: streamed within its bounds, put in place whole, once a SOP Instance
//! UID).

use std::net::TcpStream;

use dicom_dictionary_std::tags;
use dicom_ul::ClientAssociation;
use dicom_ul::pdu::PDataValueType;

use crate::command::{self, C_STORE_RQ, MOST_COMMAND_BYTES, PENDING, Status};
use crate::scp::{acknowledge_at_once, context_syntax};
use crate::scu::{MOVE_WAIT, Moved, Scu, ScuError, identifier};
use crate::store::{Incoming, StoreFolder};

/// C-GET in the Study Root Query/Retrieve Information Model.
const C_GET_SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.2.2.3";
/// C-GET-RQ's command field.
const C_GET_RQ: u16 = 0x0010;
/// C-GET-RSP's command field.
const C_GET_RSP: u16 = 0x8010;
/// Final statuses a retrieval is done with: success, or warnings (B000: some instances
/// failed).
const GET_DONE: [u16; 2] = [0x0000, 0xB000];

/// The storage classes a retrieval takes: the images a 3D reading opens, and the
/// documents kept beside them.
const STORAGE_CLASSES: [&str; 10] = [
    "1.2.840.10008.5.1.4.1.1.2",     // CT Image
    "1.2.840.10008.5.1.4.1.1.2.1",   // Enhanced CT Image
    "1.2.840.10008.5.1.4.1.1.4",     // MR Image
    "1.2.840.10008.5.1.4.1.1.4.1",   // Enhanced MR Image
    "1.2.840.10008.5.1.4.1.1.128",   // PET Image
    "1.2.840.10008.5.1.4.1.1.20",    // NM Image
    "1.2.840.10008.5.1.4.1.1.7",     // Secondary Capture Image
    "1.2.840.10008.5.1.4.1.1.66.4",  // Segmentation
    "1.2.840.10008.5.1.4.1.1.88.22", // Enhanced SR
    "1.2.840.10008.5.1.4.1.1.88.33", // Comprehensive SR
];

/// The transfer syntaxes each storage class is offered in, a presentation context each
/// (10 classes × 9 syntaxes, within the 128 contexts an association may propose): the
/// little-endian ones and the compressed ones the loader decodes, so an archive sends
/// what it holds as it is.
const STORAGE_SYNTAXES: [&str; 9] = [
    "1.2.840.10008.1.2.1",    // Explicit VR Little Endian
    "1.2.840.10008.1.2",      // Implicit VR Little Endian
    "1.2.840.10008.1.2.4.90", // JPEG 2000 lossless
    "1.2.840.10008.1.2.4.91", // JPEG 2000
    "1.2.840.10008.1.2.4.70", // JPEG lossless, first-order prediction
    "1.2.840.10008.1.2.4.57", // JPEG lossless
    "1.2.840.10008.1.2.4.50", // JPEG baseline
    "1.2.840.10008.1.2.4.80", // JPEG-LS lossless
    "1.2.840.10008.1.2.5",    // RLE lossless
];

impl Scu {
    /// Retrieves series `series_uid` of study `study_uid` into `store` with C-GET: every
    /// instance the PACS sends is stored (or refused, within the store's bounds), and the
    /// counts the PACS gave at the end.
    pub fn get_series(
        &self,
        study_uid: &str,
        series_uid: &str,
        store: &StoreFolder,
    ) -> Result<Moved, ScuError> {
        let mut association = self.associate_for_get()?;
        // The PACS's C-STOREs arrive here as they would at a Storage SCP: each answer
        // goes at once, each PDU is acknowledged at once (see `scp::acknowledge_at_once`).
        let _ = association.inner_stream().set_nodelay(true);
        let keys = identifier(
            "SERIES",
            &[
                (tags::STUDY_INSTANCE_UID, dicom_core::VR::UI, study_uid),
                (tags::SERIES_INSTANCE_UID, dicom_core::VR::UI, series_uid),
            ],
        );
        let request =
            command::request(C_GET_RQ, 1, C_GET_SOP_CLASS, None).map_err(|e| self.exchange(e))?;
        let get_context = association
            .presentation_contexts()
            .iter()
            .find(|pc| {
                pc.abstract_syntax.trim_end_matches('\0') == C_GET_SOP_CLASS
                    && pc.reason == dicom_ul::pdu::PresentationContextResultReason::Acceptance
            })
            .map(|pc| pc.id)
            .ok_or_else(|| self.exchange("the PACS accepted no C-GET"))?;
        self.send_request_on(&mut association, get_context, request, &keys)?;
        match self.receive_instances(&mut association, store) {
            Ok(moved) => {
                let _ = association.release();
                Ok(moved)
            }
            Err(error) => {
                let _ = association.abort();
                Err(error)
            }
        }
    }

    /// An association proposing C-GET, and each storage class in the SCP role.
    fn associate_for_get(&self) -> Result<ClientAssociation<TcpStream>, ScuError> {
        let mut options = self
            .association_options(MOVE_WAIT)
            .with_abstract_syntax(C_GET_SOP_CLASS);
        // A context for each class in each syntax: the acceptor takes one syntax a
        // context, and an archive sends an instance in the syntax it holds it in only
        // where a context offers it (Orthanc does not transcode for a C-GET).
        for class in STORAGE_CLASSES {
            for syntax in STORAGE_SYNTAXES {
                options = options.with_presentation_context(class, vec![syntax]);
            }
            options = options.with_role_selection(class, false, true);
        }
        self.establish(options)
    }

    /// Takes the PACS's C-STORE requests (storing each instance, answering each) until its
    /// final C-GET response; the counts that response gives.
    fn receive_instances(
        &self,
        association: &mut ClientAssociation<TcpStream>,
        store: &StoreFolder,
    ) -> Result<Moved, ScuError> {
        let mut command_bytes = Vec::new();
        // The C-STORE whose data set is arriving, and its file (or why it is refused).
        let mut storing: Option<(command::Command, u8, Result<Incoming, Status>)> = None;
        let mut counts = Moved::default();
        loop {
            let values = self.receive_values(association)?;
            acknowledge_at_once(association.inner_stream());
            for value in values {
                match value.value_type {
                    PDataValueType::Command => {
                        if command_bytes.len() + value.data.len() > MOST_COMMAND_BYTES {
                            return Err(self.exchange("a command set over 16 KiB"));
                        }
                        command_bytes.extend_from_slice(&value.data);
                        if !value.is_last {
                            continue;
                        }
                        let field =
                            command::field_of(&command_bytes).map_err(|e| self.exchange(e))?;
                        if field == C_GET_RSP {
                            let response = command::read_response(&command_bytes)
                                .map_err(|e| self.exchange(e))?;
                            command_bytes.clear();
                            counts = counts.counted(&response);
                            if PENDING.contains(&response.status) {
                                continue;
                            }
                            if !GET_DONE.contains(&response.status) {
                                return Err(ScuError::Refused {
                                    pacs: self.pacs().name(),
                                    what: "C-GET",
                                    status: response.status,
                                });
                            }
                            return Ok(counts);
                        }
                        if field != C_STORE_RQ {
                            return Err(
                                self.exchange(format!("a command {field:04X} during a C-GET"))
                            );
                        }
                        let asked = command::read(&command_bytes).map_err(|e| self.exchange(e))?;
                        command_bytes.clear();
                        let context = value.presentation_context_id;
                        let incoming = self.begin_instance(association, &asked, context, store);
                        storing = Some((asked, context, incoming));
                    }
                    PDataValueType::Data => {
                        let Some((_, _, incoming)) = &mut storing else {
                            return Err(self.exchange("a data set without its command"));
                        };
                        if let Ok(incoming) = incoming {
                            incoming.write(store, &value.data);
                        }
                        if value.is_last
                            && let Some((asked, context, incoming)) = storing.take()
                        {
                            let status = match incoming.and_then(|i| store.finish(i)) {
                                Ok(_) => Status::Success,
                                Err(status) => {
                                    tracing::info!(sop_instance = %asked.sop_instance, ?status, "an instance of a C-GET refused");
                                    status
                                }
                            };
                            let answer =
                                command::response(&asked, status).map_err(|e| self.exchange(e))?;
                            association
                                .send(&command::command_pdu(context, answer))
                                .map_err(|e| self.exchange(e))?;
                        }
                    }
                }
            }
        }
    }

    /// Starts storing the instance `asked` announces, in its context's transfer syntax.
    fn begin_instance(
        &self,
        association: &ClientAssociation<TcpStream>,
        asked: &command::Command,
        context: u8,
        store: &StoreFolder,
    ) -> Result<Incoming, Status> {
        let syntax = context_syntax(association.presentation_contexts(), context)?;
        store.begin(
            &asked.sop_class,
            &asked.sop_instance,
            &syntax,
            &self.pacs().ae_title,
        )
    }
}
