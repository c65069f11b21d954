//! DICOM networking for Hounsfield over dicom-rs's upper layer (`dicom-ul`): a Storage
//! SCP that answers C-ECHO and C-STORE, and an SCU that searches a PACS with C-FIND and
//! retrieves a series with C-MOVE or C-GET ([`Scu`]).
//!
//! A modality or a PACS pushes studies to `--dicom-port`. Callers are let in by their AE
//! title and address ([`Callers`]); each instance streams to a file as it arrives, within
//! its bounds, and is put in place whole under its study and series
//! ([`StoreFolder`]), once per SOP Instance UID. When an association ends, the server is
//! told what arrived ([`Reception`]), and it catalogues those studies.

mod callers;
mod command;
mod get;
mod scp;
mod scu;
mod store;

pub use callers::{AllowedCaller, CallerError, Callers};
pub use scp::{
    ASSOCIATION_IDLE, AssociationReport, AssociationsPerMinute, MOST_ASSOCIATIONS, MOST_PDU_BYTES,
    Reception, Refusal, StorageScp,
};
pub use scu::{FoundSeries, FoundStudy, MOST_MATCHES, Moved, RemoteAe, Scu, ScuError};
pub use store::{MOST_INSTANCE_BYTES, StoreFolder, is_uid};
