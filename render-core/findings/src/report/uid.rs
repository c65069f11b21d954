//! New DICOM UIDs: `2.25.` and a random 128-bit number (PS3.5 B.2: a UUID as a decimal
//! integer), so no organisation root is needed and two servers never collide.

use dicom_object::{FileDicomObject, InMemDicomObject};

use crate::error::FindingError;

/// This program's implementation class UID (a fixed `2.25` UID), in every file's meta.
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.330116860247072004666795914149352892713";

/// The SOP Instance UID of a document about to be written (its meta's, unpadded).
pub fn sop_instance_uid_of(document: &FileDicomObject<InMemDicomObject>) -> String {
    document
        .meta()
        .media_storage_sop_instance_uid()
        .trim_end_matches('\0')
        .to_string()
}

/// A new UID under `2.25`.
pub fn new_uid() -> Result<String, FindingError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|error| FindingError::Encode(format!("no random number for a UID: {error}")))?;
    // A version 4 UUID's fixed bits, so the number is a UUID as the rule asks.
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Ok(format!("2.25.{}", u128::from_be_bytes(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_new_and_within_64_characters() {
        let a = new_uid().expect("a uid");
        let b = new_uid().expect("a uid");
        assert_ne!(a, b);
        for uid in [&a, &b, &IMPLEMENTATION_CLASS_UID.to_string()] {
            assert!(uid.len() <= 64, "{uid}");
            assert!(uid.starts_with("2.25."));
            let number = &uid[5..];
            assert!(
                !number.starts_with('0') && number.parse::<u128>().is_ok(),
                "{uid}"
            );
        }
    }
}
