//! DIMSE command sets (PS3.7 §9 and §E): the caller's request read, and our response
//! written, always in Implicit VR Little Endian as the standard has them.

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::entries::IMPLICIT_VR_LITTLE_ENDIAN;

/// C-STORE-RQ's command field.
pub(crate) const C_STORE_RQ: u16 = 0x0001;
/// C-ECHO-RQ's command field.
pub(crate) const C_ECHO_RQ: u16 = 0x0030;
/// C-FIND-RQ's command field.
pub(crate) const C_FIND_RQ: u16 = 0x0020;
/// C-MOVE-RQ's command field.
pub(crate) const C_MOVE_RQ: u16 = 0x0021;
/// Status: pending (more matches or sub-operations follow).
pub(crate) const PENDING: [u16; 2] = [0xFF00, 0xFF01];
/// A response's command field is its request's with this bit set.
const RESPONSE_BIT: u16 = 0x8000;
/// CommandDataSetType: no data set follows.
const NO_DATA_SET: u16 = 0x0101;
/// The most bytes of one command set: a command holds a few UIDs and numbers.
pub(crate) const MOST_COMMAND_BYTES: usize = 16 << 10;

/// A response's status (PS3.7 Annex C).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Done.
    Success = 0x0000,
    /// Refused: out of resources (the instance or the store is full).
    OutOfResources = 0xA700,
    /// Error: the data set does not match the command (its SOP Instance UID differs).
    DataSetMismatch = 0xA900,
    /// Error: cannot understand (a UID that cannot name a file, a data set unreadable).
    CannotUnderstand = 0xC000,
    /// An operation this SCP does not perform.
    UnrecognizedOperation = 0x0211,
}

/// What a command set asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    /// CommandField.
    pub(crate) field: u16,
    /// MessageID.
    pub(crate) message_id: u16,
    /// AffectedSOPClassUID (empty when absent).
    pub(crate) sop_class: String,
    /// AffectedSOPInstanceUID (empty when absent).
    pub(crate) sop_instance: String,
    /// Whether a data set follows.
    pub(crate) has_data_set: bool,
}

/// Why a command set could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CommandError {
    /// Not a data set in Implicit VR Little Endian.
    #[error("a command set that cannot be read: {0}")]
    Unreadable(String),
    /// A required element is missing.
    #[error("a command set without {0}")]
    Missing(&'static str),
    /// The response could not be written.
    #[error("a response that cannot be written: {0}")]
    Unwritable(String),
}

/// A P-DATA PDU carrying one whole command set, `data`, on presentation context
/// `context`.
pub(crate) fn command_pdu(context: u8, data: Vec<u8>) -> dicom_ul::pdu::Pdu {
    dicom_ul::pdu::Pdu::PData {
        data: vec![dicom_ul::pdu::PDataValue {
            presentation_context_id: context,
            value_type: dicom_ul::pdu::PDataValueType::Command,
            is_last: true,
            data,
        }],
    }
}

/// A command set's CommandField (a request's or a response's).
pub(crate) fn field_of(bytes: &[u8]) -> Result<u16, CommandError> {
    number_of(&command_object(bytes)?, tags::COMMAND_FIELD)
        .ok_or(CommandError::Missing("CommandField"))
}

/// Reads a command set.
pub(crate) fn read(bytes: &[u8]) -> Result<Command, CommandError> {
    let object = command_object(bytes)?;
    let number = |tag, name| number_of(&object, tag).ok_or(CommandError::Missing(name));
    let text = |tag| text_of(&object, tag);
    Ok(Command {
        field: number(tags::COMMAND_FIELD, "CommandField")?,
        message_id: number(tags::MESSAGE_ID, "MessageID")?,
        sop_class: text(tags::AFFECTED_SOP_CLASS_UID),
        sop_instance: text(tags::AFFECTED_SOP_INSTANCE_UID),
        has_data_set: number(tags::COMMAND_DATA_SET_TYPE, "CommandDataSetType")? != NO_DATA_SET,
    })
}

/// The response to `request` with `status`, as a command set's bytes.
pub(crate) fn response(request: &Command, status: Status) -> Result<Vec<u8>, CommandError> {
    let mut object = InMemDicomObject::new_empty();
    let mut put = |tag, vr, value: PrimitiveValue| {
        object.put(DataElement::new(tag, vr, value));
    };
    if !request.sop_class.is_empty() {
        put(
            tags::AFFECTED_SOP_CLASS_UID,
            VR::UI,
            PrimitiveValue::from(request.sop_class.as_str()),
        );
    }
    put(
        tags::COMMAND_FIELD,
        VR::US,
        PrimitiveValue::from(request.field | RESPONSE_BIT),
    );
    put(
        tags::MESSAGE_ID_BEING_RESPONDED_TO,
        VR::US,
        PrimitiveValue::from(request.message_id),
    );
    put(
        tags::COMMAND_DATA_SET_TYPE,
        VR::US,
        PrimitiveValue::from(NO_DATA_SET),
    );
    put(tags::STATUS, VR::US, PrimitiveValue::from(status as u16));
    if !request.sop_instance.is_empty() {
        put(
            tags::AFFECTED_SOP_INSTANCE_UID,
            VR::UI,
            PrimitiveValue::from(request.sop_instance.as_str()),
        );
    }
    with_group_length(object)
}

/// A request of `field` (C-FIND or C-MOVE) for `sop_class`, number `message_id`, with a
/// data set (the identifier) to follow; `move_destination` for a C-MOVE.
pub(crate) fn request(
    field: u16,
    message_id: u16,
    sop_class: &str,
    move_destination: Option<&str>,
) -> Result<Vec<u8>, CommandError> {
    let mut object = InMemDicomObject::new_empty();
    let mut put = |tag, vr, value: PrimitiveValue| {
        object.put(DataElement::new(tag, vr, value));
    };
    put(
        tags::AFFECTED_SOP_CLASS_UID,
        VR::UI,
        PrimitiveValue::from(sop_class),
    );
    put(tags::COMMAND_FIELD, VR::US, PrimitiveValue::from(field));
    put(tags::MESSAGE_ID, VR::US, PrimitiveValue::from(message_id));
    if let Some(destination) = move_destination {
        put(
            tags::MOVE_DESTINATION,
            VR::AE,
            PrimitiveValue::from(destination),
        );
    }
    // Medium priority; a data set follows.
    put(tags::PRIORITY, VR::US, PrimitiveValue::from(0u16));
    put(
        tags::COMMAND_DATA_SET_TYPE,
        VR::US,
        PrimitiveValue::from(0u16),
    );
    with_group_length(object)
}

/// What a response says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Response {
    /// Status.
    pub(crate) status: u16,
    /// Whether a data set (an identifier) follows.
    pub(crate) has_data_set: bool,
    /// A C-MOVE's sub-operations completed, failed and with warnings (0 when absent).
    pub(crate) completed: u16,
    pub(crate) failed: u16,
    pub(crate) warnings: u16,
}

/// Reads a response's command set.
pub(crate) fn read_response(bytes: &[u8]) -> Result<Response, CommandError> {
    let object = command_object(bytes)?;
    let number = |tag| number_of(&object, tag);
    Ok(Response {
        status: number(tags::STATUS).ok_or(CommandError::Missing("Status"))?,
        has_data_set: number(tags::COMMAND_DATA_SET_TYPE)
            .ok_or(CommandError::Missing("CommandDataSetType"))?
            != NO_DATA_SET,
        completed: number(tags::NUMBER_OF_COMPLETED_SUBOPERATIONS).unwrap_or(0),
        failed: number(tags::NUMBER_OF_FAILED_SUBOPERATIONS).unwrap_or(0),
        warnings: number(tags::NUMBER_OF_WARNING_SUBOPERATIONS).unwrap_or(0),
    })
}

/// `object`'s bytes led by its CommandGroupLength: the bytes after that element's own
/// (12 in Implicit VR), so written twice.
fn with_group_length(mut object: InMemDicomObject) -> Result<Vec<u8>, CommandError> {
    let group_length = |length: u32| {
        DataElement::new(
            tags::COMMAND_GROUP_LENGTH,
            VR::UL,
            PrimitiveValue::from(length),
        )
    };
    object.put(group_length(0));
    let written = write(&object)?;
    let length = u32::try_from(written.len().saturating_sub(12))
        .map_err(|error| CommandError::Unwritable(error.to_string()))?;
    object.put(group_length(length));
    write(&object)
}

/// A command set's elements (always in Implicit VR Little Endian).
fn command_object(bytes: &[u8]) -> Result<InMemDicomObject, CommandError> {
    InMemDicomObject::read_dataset_with_ts(bytes, &IMPLICIT_VR_LITTLE_ENDIAN.erased())
        .map_err(|error| CommandError::Unreadable(error.to_string()))
}

/// An attribute's unsigned short (`None` when absent or not a number).
fn number_of(object: &InMemDicomObject, tag: dicom_core::Tag) -> Option<u16> {
    object
        .element(tag)
        .ok()
        .and_then(|e| e.to_int::<u16>().ok())
}

/// An attribute's text without its padding (empty when absent or not text).
pub(crate) fn text_of(object: &InMemDicomObject, tag: dicom_core::Tag) -> String {
    object
        .element(tag)
        .ok()
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_end_matches(['\0', ' ']).to_string())
        .unwrap_or_default()
}

fn write(object: &InMemDicomObject) -> Result<Vec<u8>, CommandError> {
    let mut bytes = Vec::new();
    object
        .write_dataset_with_ts(&mut bytes, &IMPLICIT_VR_LITTLE_ENDIAN.erased())
        .map_err(|error| CommandError::Unwritable(error.to_string()))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_answers_its_request_and_counts_its_group() {
        let request = Command {
            field: C_STORE_RQ,
            message_id: 7,
            sop_class: "1.2.840.10008.5.1.4.1.1.2".to_string(),
            sop_instance: "1.2.3.4".to_string(),
            has_data_set: true,
        };
        let bytes = response(&request, Status::OutOfResources).expect("written");
        let object = command_object(&bytes).expect("a data set");
        let number = |tag| number_of(&object, tag).map(u32::from);
        let length = object
            .element(tags::COMMAND_GROUP_LENGTH)
            .ok()
            .and_then(|e| e.to_int::<u32>().ok());
        let text = |tag| Some(text_of(&object, tag));
        assert_eq!(number(tags::COMMAND_FIELD), Some(0x8001));
        assert_eq!(number(tags::COMMAND_DATA_SET_TYPE), Some(0x0101));
        assert_eq!(text(tags::AFFECTED_SOP_CLASS_UID), Some(request.sop_class));
        assert_eq!(
            text(tags::AFFECTED_SOP_INSTANCE_UID),
            Some(request.sop_instance)
        );
        assert_eq!(number(tags::STATUS), Some(0xA700));
        assert_eq!(number(tags::MESSAGE_ID_BEING_RESPONDED_TO), Some(7));
        assert_eq!(length, Some(bytes.len() as u32 - 12));
    }

    #[test]
    fn a_command_without_its_field_is_refused() {
        let object = InMemDicomObject::from_element_iter([DataElement::new(
            tags::MESSAGE_ID,
            VR::US,
            PrimitiveValue::from(1u16),
        )]);
        let bytes = write(&object).expect("written");
        assert!(matches!(
            read(&bytes),
            Err(CommandError::Missing("CommandField"))
        ));
        assert!(read(&[1, 2, 3]).is_err());
    }
}
