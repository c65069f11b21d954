//! Asking a PACS over DICOM networking (the SCU side): its studies and a study's series
//! searched with C-FIND, and a series retrieved with C-MOVE to a destination AE (this
//! server's Storage SCP, which stores what arrives). Study Root, as every archive answers.

use std::net::TcpStream;
use std::time::Duration;

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_encoding::TransferSyntaxIndex;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use dicom_ul::pdu::{PDataValue, PDataValueType, Pdu};
use dicom_ul::{ClientAssociation, ClientAssociationOptions};

use crate::callers::ae_title;
use crate::command::{self, C_FIND_RQ, C_MOVE_RQ, MOST_COMMAND_BYTES, PENDING, text_of as text};
use crate::scp::MOST_PDU_BYTES;

/// An operation asked of a PACS: its name, command field, SOP class (Study Root), how
/// long each answer may take, and the final statuses it is done with.
struct Operation {
    name: &'static str,
    field: u16,
    sop_class: &'static str,
    wait: Duration,
    done: &'static [u16],
}

/// C-FIND in the Study Root Query/Retrieve Information Model.
const C_FIND: Operation = Operation {
    name: "C-FIND",
    field: C_FIND_RQ,
    sop_class: "1.2.840.10008.5.1.4.1.2.2.1",
    wait: FIND_WAIT,
    done: &[0x0000],
};
/// C-MOVE in the Study Root Query/Retrieve Information Model: done on success or with
/// warnings (B000: some sub-operations failed).
const C_MOVE: Operation = Operation {
    name: "C-MOVE",
    field: C_MOVE_RQ,
    sop_class: "1.2.840.10008.5.1.4.1.2.2.2",
    wait: MOVE_WAIT,
    done: &[0x0000, 0xB000],
};
/// The most matches one C-FIND reads (past them the search is refused, not cut short).
pub const MOST_MATCHES: usize = 20_000;
/// The most bytes of one identifier a PACS answers with.
const MOST_IDENTIFIER_BYTES: usize = 1 << 20;
/// How long a search may wait for the PACS's next answer.
const FIND_WAIT: Duration = Duration::from_secs(60);
/// How long a retrieval may wait for the PACS's next answer (it sends the series first).
pub(crate) const MOVE_WAIT: Duration = Duration::from_secs(600);

/// Why a PACS could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ScuError {
    /// Not `dimse://AE@HOST:PORT`.
    #[error("\"{0}\": a DICOM PACS is dimse://AE@HOST:PORT (its AE title, host and port)")]
    Address(String),
    /// No association.
    #[error("no association with {pacs}: {why}")]
    Association {
        /// The PACS.
        pacs: String,
        /// Why.
        why: String,
    },
    /// The PACS answered out of the protocol, or the connection broke.
    #[error("{pacs}: {why}")]
    Exchange {
        /// The PACS.
        pacs: String,
        /// Why.
        why: String,
    },
    /// The PACS refused the request (its status).
    #[error("{pacs} answered status {status:04X} to the {what}")]
    Refused {
        /// The PACS.
        pacs: String,
        /// What was asked.
        what: &'static str,
        /// Its status.
        status: u16,
    },
    /// More matches than a search reads.
    #[error("{pacs} matched more than {MOST_MATCHES} for one search: narrow it")]
    TooMany {
        /// The PACS.
        pacs: String,
    },
}

/// A PACS that answers C-FIND and C-MOVE: its AE title, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteAe {
    /// Its AE title (the called AE title).
    pub ae_title: String,
    /// Its host.
    pub host: String,
    /// Its port.
    pub port: u16,
}

impl RemoteAe {
    /// Reads `dimse://AE@HOST:PORT`.
    pub fn parse(text: &str) -> Result<Self, ScuError> {
        let bad = || ScuError::Address(text.to_string());
        let rest = text.strip_prefix("dimse://").ok_or_else(bad)?;
        let (ae, place) = rest.split_once('@').ok_or_else(bad)?;
        let (host, port) = place
            .trim_end_matches('/')
            .rsplit_once(':')
            .ok_or_else(bad)?;
        let port: u16 = port.parse().ok().filter(|&p| p > 0).ok_or_else(bad)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains('/') {
            return Err(bad());
        }
        Ok(Self {
            ae_title: ae_title(ae).ok_or_else(bad)?,
            host: host.to_string(),
            port,
        })
    }

    /// `AE@HOST:PORT`, as logs and errors name it.
    pub fn name(&self) -> String {
        format!("{}@{}:{}", self.ae_title, self.host, self.port)
    }
}

/// A study a PACS matched.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FoundStudy {
    /// StudyInstanceUID.
    pub uid: String,
    /// PatientName.
    pub patient_name: String,
    /// PatientID.
    pub patient_id: String,
    /// StudyDate.
    pub date: String,
    /// StudyDescription.
    pub description: String,
    /// AccessionNumber.
    pub accession: String,
}

/// A series a PACS matched.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FoundSeries {
    /// SeriesInstanceUID.
    pub uid: String,
    /// SeriesNumber.
    pub number: Option<i32>,
    /// Modality.
    pub modality: String,
    /// SeriesDescription.
    pub description: String,
    /// BodyPartExamined, when the PACS tells it (else empty).
    pub body_part: String,
    /// NumberOfSeriesRelatedInstances, when the PACS tells it.
    pub images: Option<usize>,
}

/// What a C-MOVE's sub-operations came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    /// Instances sent.
    pub completed: usize,
    /// Instances that failed.
    pub failed: usize,
    /// Instances sent with a warning.
    pub warnings: usize,
}

impl Moved {
    /// These counts with a later answer's (the highest of each).
    pub(crate) fn counted(self, response: &command::Response) -> Self {
        Self {
            completed: usize::from(response.completed).max(self.completed),
            failed: usize::from(response.failed).max(self.failed),
            warnings: usize::from(response.warnings).max(self.warnings),
        }
    }
}

/// This program as a PACS's SCU: it calls `pacs` as `calling_ae`.
#[derive(Debug, Clone)]
pub struct Scu {
    pacs: RemoteAe,
    calling_ae: String,
}

impl Scu {
    /// Calls `pacs` as `calling_ae`.
    pub fn new(pacs: RemoteAe, calling_ae: &str) -> Self {
        Self {
            pacs,
            calling_ae: calling_ae.to_string(),
        }
    }

    /// The PACS asked.
    pub fn pacs(&self) -> &RemoteAe {
        &self.pacs
    }

    /// Every study the PACS holds (STUDY level, no key but the return keys).
    pub fn studies(&self) -> Result<Vec<FoundStudy>, ScuError> {
        let keys = identifier(
            "STUDY",
            &[
                (tags::STUDY_INSTANCE_UID, VR::UI, ""),
                (tags::PATIENT_NAME, VR::PN, ""),
                (tags::PATIENT_ID, VR::LO, ""),
                (tags::STUDY_DATE, VR::DA, ""),
                (tags::STUDY_DESCRIPTION, VR::LO, ""),
                (tags::ACCESSION_NUMBER, VR::SH, ""),
            ],
        );
        let found = self.find(&keys)?;
        Ok(found
            .iter()
            .map(|o| FoundStudy {
                uid: text(o, tags::STUDY_INSTANCE_UID),
                patient_name: text(o, tags::PATIENT_NAME),
                patient_id: text(o, tags::PATIENT_ID),
                date: text(o, tags::STUDY_DATE),
                description: text(o, tags::STUDY_DESCRIPTION),
                accession: text(o, tags::ACCESSION_NUMBER),
            })
            .filter(|study| crate::store::is_uid(&study.uid))
            .collect())
    }

    /// The StudyInstanceUID of the study series `series_uid` belongs to, when the PACS
    /// holds it (a SERIES-level C-FIND keyed by the series alone, as archives answer).
    pub fn study_of_series(&self, series_uid: &str) -> Result<Option<String>, ScuError> {
        let keys = identifier(
            "SERIES",
            &[
                (tags::SERIES_INSTANCE_UID, VR::UI, series_uid),
                (tags::STUDY_INSTANCE_UID, VR::UI, ""),
            ],
        );
        Ok(self
            .find(&keys)?
            .iter()
            .map(|o| text(o, tags::STUDY_INSTANCE_UID))
            .find(|uid| crate::store::is_uid(uid)))
    }

    /// The series of study `study_uid`.
    pub fn series(&self, study_uid: &str) -> Result<Vec<FoundSeries>, ScuError> {
        let keys = identifier(
            "SERIES",
            &[
                (tags::STUDY_INSTANCE_UID, VR::UI, study_uid),
                (tags::SERIES_INSTANCE_UID, VR::UI, ""),
                (tags::SERIES_NUMBER, VR::IS, ""),
                (tags::MODALITY, VR::CS, ""),
                (tags::SERIES_DESCRIPTION, VR::LO, ""),
                (tags::BODY_PART_EXAMINED, VR::CS, ""),
                (tags::NUMBER_OF_SERIES_RELATED_INSTANCES, VR::IS, ""),
            ],
        );
        let found = self.find(&keys)?;
        Ok(found
            .iter()
            .map(|o| FoundSeries {
                uid: text(o, tags::SERIES_INSTANCE_UID),
                number: text(o, tags::SERIES_NUMBER).trim().parse().ok(),
                modality: text(o, tags::MODALITY),
                description: text(o, tags::SERIES_DESCRIPTION),
                body_part: text(o, tags::BODY_PART_EXAMINED),
                images: text(o, tags::NUMBER_OF_SERIES_RELATED_INSTANCES)
                    .trim()
                    .parse()
                    .ok(),
            })
            .filter(|series| crate::store::is_uid(&series.uid))
            .collect())
    }

    /// Asks the PACS to send series `series_uid` of study `study_uid` to the AE
    /// `destination` (C-MOVE), and waits until it has.
    pub fn move_series(
        &self,
        study_uid: &str,
        series_uid: &str,
        destination: &str,
    ) -> Result<Moved, ScuError> {
        let keys = identifier(
            "SERIES",
            &[
                (tags::STUDY_INSTANCE_UID, VR::UI, study_uid),
                (tags::SERIES_INSTANCE_UID, VR::UI, series_uid),
            ],
        );
        let mut moved = Moved::default();
        let last = self.ask(&C_MOVE, Some(destination), &keys, |response, _| {
            moved = moved.counted(response);
            Ok(())
        })?;
        Ok(moved.counted(&last))
    }

    /// A C-FIND of `keys`: every match's identifier.
    fn find(&self, keys: &InMemDicomObject) -> Result<Vec<InMemDicomObject>, ScuError> {
        let mut matches = Vec::new();
        self.ask(&C_FIND, None, keys, |_, identifier| {
            if matches.len() >= MOST_MATCHES {
                return Err(ScuError::TooMany {
                    pacs: self.pacs.name(),
                });
            }
            matches.extend(identifier);
            Ok(())
        })?;
        Ok(matches)
    }

    /// One `operation` of `keys` (a C-MOVE's to `destination`) over an association of its
    /// own: each pending answer given to `pending` (an error there aborts the association),
    /// and the final answer, once its status is one the operation is done with.
    fn ask(
        &self,
        operation: &Operation,
        destination: Option<&str>,
        keys: &InMemDicomObject,
        mut pending: impl FnMut(&command::Response, Option<InMemDicomObject>) -> Result<(), ScuError>,
    ) -> Result<command::Response, ScuError> {
        let mut association = self.associate(operation.sop_class, operation.wait)?;
        let request = command::request(operation.field, 1, operation.sop_class, destination)
            .map_err(|e| self.exchange(e))?;
        self.send_request(&mut association, request, keys)?;
        loop {
            let (response, identifier) = self.response(&mut association)?;
            if !PENDING.contains(&response.status) {
                let _ = association.release();
                if !operation.done.contains(&response.status) {
                    return Err(ScuError::Refused {
                        pacs: self.pacs.name(),
                        what: operation.name,
                        status: response.status,
                    });
                }
                return Ok(response);
            }
            if let Err(error) = pending(&response, identifier) {
                let _ = association.abort();
                return Err(error);
            }
        }
    }

    /// An association proposing `abstract_syntax` in the little-endian syntaxes.
    fn associate(
        &self,
        abstract_syntax: &str,
        wait: Duration,
    ) -> Result<ClientAssociation<TcpStream>, ScuError> {
        self.establish(
            self.association_options(wait)
                .with_abstract_syntax(abstract_syntax),
        )
    }

    /// What every association with the PACS is: its AE title called as ours, our PDU
    /// size, strict reading, and `wait` for each answer; the presentation contexts to add.
    pub(crate) fn association_options(&self, wait: Duration) -> ClientAssociationOptions<'_> {
        ClientAssociationOptions::new()
            .calling_ae_title(self.calling_ae.as_str())
            .called_ae_title(self.pacs.ae_title.as_str())
            .max_pdu_length(MOST_PDU_BYTES)
            .strict(true)
            .read_timeout(wait)
            .write_timeout(FIND_WAIT)
            .connection_timeout(Duration::from_secs(10))
    }

    /// Opens the association `options` propose with the PACS.
    pub(crate) fn establish(
        &self,
        options: ClientAssociationOptions<'_>,
    ) -> Result<ClientAssociation<TcpStream>, ScuError> {
        options
            .establish((self.pacs.host.as_str(), self.pacs.port))
            .map_err(|error| ScuError::Association {
                pacs: self.pacs.name(),
                why: error.to_string(),
            })
    }

    /// Sends a request's command set and its identifier, in the first context's syntax.
    fn send_request(
        &self,
        association: &mut ClientAssociation<TcpStream>,
        request: Vec<u8>,
        keys: &InMemDicomObject,
    ) -> Result<(), ScuError> {
        let id = association
            .presentation_contexts()
            .first()
            .ok_or_else(|| self.exchange("the PACS accepted no presentation context"))?
            .id;
        self.send_request_on(association, id, request, keys)
    }

    /// Sends a request's command set and its identifier on presentation context `id`,
    /// in its syntax.
    pub(crate) fn send_request_on(
        &self,
        association: &mut ClientAssociation<TcpStream>,
        id: u8,
        request: Vec<u8>,
        keys: &InMemDicomObject,
    ) -> Result<(), ScuError> {
        let syntax = association
            .presentation_contexts()
            .iter()
            .find(|context| context.id == id)
            .ok_or_else(|| self.exchange("no such presentation context"))?
            .transfer_syntax
            .clone();
        let syntax = TransferSyntaxRegistry
            .get(syntax.trim_end_matches('\0'))
            .ok_or_else(|| self.exchange("the PACS chose an unknown transfer syntax"))?;
        let mut data = Vec::new();
        keys.write_dataset_with_ts(&mut data, syntax)
            .map_err(|e| self.exchange(e))?;
        let value = |value_type, data| PDataValue {
            presentation_context_id: id,
            value_type,
            is_last: true,
            data,
        };
        association
            .send(&Pdu::PData {
                data: vec![value(PDataValueType::Command, request)],
            })
            .and_then(|()| {
                association.send(&Pdu::PData {
                    data: vec![value(PDataValueType::Data, data)],
                })
            })
            .map_err(|e| self.exchange(e))
    }

    /// The next response and, when one follows, its identifier.
    fn response(
        &self,
        association: &mut ClientAssociation<TcpStream>,
    ) -> Result<(command::Response, Option<InMemDicomObject>), ScuError> {
        let mut command_bytes = Vec::new();
        let mut data_bytes = Vec::new();
        let mut response: Option<command::Response> = None;
        loop {
            for value in self.receive_values(association)? {
                match value.value_type {
                    PDataValueType::Command => {
                        if command_bytes.len() + value.data.len() > MOST_COMMAND_BYTES {
                            return Err(self.exchange("a response's command set is too long"));
                        }
                        command_bytes.extend_from_slice(&value.data);
                        if value.is_last {
                            let read = command::read_response(&command_bytes)
                                .map_err(|e| self.exchange(e))?;
                            if !read.has_data_set {
                                return Ok((read, None));
                            }
                            response = Some(read);
                        }
                    }
                    PDataValueType::Data => {
                        if data_bytes.len() + value.data.len() > MOST_IDENTIFIER_BYTES {
                            return Err(self.exchange("an identifier over 1 MiB"));
                        }
                        data_bytes.extend_from_slice(&value.data);
                        if value.is_last {
                            let read = response.ok_or_else(|| {
                                self.exchange("an identifier before its response")
                            })?;
                            let identifier = self.identifier_of(association, &data_bytes)?;
                            return Ok((read, Some(identifier)));
                        }
                    }
                }
            }
        }
    }

    /// The values of the PACS's next P-DATA PDU; an abort, or any other PDU, is an error
    /// that says what came.
    pub(crate) fn receive_values(
        &self,
        association: &mut ClientAssociation<TcpStream>,
    ) -> Result<Vec<PDataValue>, ScuError> {
        match association.receive().map_err(|e| self.exchange(e))? {
            Pdu::PData { data } => Ok(data),
            Pdu::AbortRQ { .. } => Err(self.exchange(format!(
                "the PACS aborted the association (does it know the AE title {}?)",
                self.calling_ae
            ))),
            other => Err(self.exchange(format!("unexpected {}", other.short_description()))),
        }
    }

    fn identifier_of(
        &self,
        association: &ClientAssociation<TcpStream>,
        bytes: &[u8],
    ) -> Result<InMemDicomObject, ScuError> {
        let syntax = association
            .presentation_contexts()
            .first()
            .and_then(|pc| TransferSyntaxRegistry.get(pc.transfer_syntax.trim_end_matches('\0')))
            .ok_or_else(|| self.exchange("no transfer syntax to read an identifier in"))?;
        InMemDicomObject::read_dataset_with_ts(bytes, syntax).map_err(|e| self.exchange(e))
    }

    pub(crate) fn exchange(&self, why: impl std::fmt::Display) -> ScuError {
        ScuError::Exchange {
            pacs: self.pacs.name(),
            why: why.to_string(),
        }
    }
}

/// A query identifier at `level` with `keys` (tag, VR, value; empty values are return keys).
pub(crate) fn identifier(level: &str, keys: &[(dicom_core::Tag, VR, &str)]) -> InMemDicomObject {
    let mut object = InMemDicomObject::new_empty();
    object.put(DataElement::new(
        tags::QUERY_RETRIEVE_LEVEL,
        VR::CS,
        PrimitiveValue::from(level),
    ));
    for &(tag, vr, value) in keys {
        let value = if value.is_empty() {
            PrimitiveValue::Empty
        } else {
            PrimitiveValue::from(value)
        };
        object.put(DataElement::new(tag, vr, value));
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pacs_is_named_by_its_ae_title_host_and_port() {
        let pacs = RemoteAe::parse("dimse://ORTHANC@127.0.0.1:4242").expect("parsed");
        assert_eq!(
            (pacs.ae_title.as_str(), pacs.host.as_str(), pacs.port),
            ("ORTHANC", "127.0.0.1", 4242)
        );
        assert_eq!(pacs.name(), "ORTHANC@127.0.0.1:4242");
        for bad in [
            "ORTHANC@127.0.0.1:4242",
            "dimse://127.0.0.1:4242",
            "dimse://ORTHANC@127.0.0.1",
            "dimse://ORTHANC@:4242",
            "dimse://ORTHANC@host:0",
            "dimse://A_TITLE_TOO_LONG_X@host:104",
        ] {
            assert!(RemoteAe::parse(bad).is_err(), "{bad}");
        }
    }
}
