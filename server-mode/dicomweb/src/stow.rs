//! STOW-RS: DICOM instances stored into a study of the PACS (one POST of a
//! multipart/related body, a part per instance, a call of [`CallKind::Store`] over at its
//! deadline), and the PACS's answer read for the instances it refused.

use serde_json::Value;
use url::Url;

use super::call::{Call, call};
use super::deadlines::CallKind;
use super::qido::{objects, uid_segment};
use super::request::{Attempt, check_status, read_limited, retrying, send};
use super::{DicomWeb, PacsError, without_credentials};

/// The boundary between the parts of a store request: long and random-looking enough that
/// no DICOM instance's bytes hold it (RFC 2046 asks only that the parts do not).
const BOUNDARY: &str = "hounsfield-stow-4f1c9d2a8b7e6035";

/// What the PACS stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The URL the instances were sent to.
    pub url: String,
    /// The SOP Instance UIDs the PACS says it stored.
    pub stored: Vec<String>,
}

impl DicomWeb {
    /// Stores `instances` (Part 10 files) into study `study_uid`; an instance the PACS
    /// refuses is an error naming it and the PACS's reason.
    pub fn store_instances(
        &self,
        study_uid: &str,
        instances: &[Vec<u8>],
    ) -> Result<Stored, PacsError> {
        let url = self.url(&format!("studies/{}", uid_segment(self, study_uid)?))?;
        let body = multipart_body(instances);
        let (url, body) = (&url, &body);
        let answer = call(self, CallKind::Store, url, |call| async move {
            retrying(&call, url, || attempt(&call, url, body.clone())).await
        })?;
        stored_of(url, &answer)
    }
}

/// One try at the store: the POST, then its DICOM JSON answer (an empty one for a PACS
/// that answers 204 or nothing).
async fn attempt(call: &Call<'_>, url: &Url, body: Vec<u8>) -> Result<Value, Attempt> {
    let request = call
        .post(url.clone())
        .header(
            reqwest::header::CONTENT_TYPE,
            format!("multipart/related; type=\"application/dicom\"; boundary={BOUNDARY}"),
        )
        .header(reqwest::header::ACCEPT, "application/dicom+json")
        .body(body);
    let answer = send(call, url, request).await?;
    let answer = check_status(url, answer)?;
    let text = read_limited(url, answer, call.limits().max_json_bytes).await?;
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&text).map_err(|error| {
        Attempt::Fatal(PacsError::BadAnswer {
            url: without_credentials(url),
            what: format!("the store's answer is not DICOM JSON: {error}"),
        })
    })
}

/// The body of a store request: each instance a part of type `application/dicom`.
fn multipart_body(instances: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::with_capacity(instances.iter().map(Vec::len).sum::<usize>() + 256);
    for instance in instances {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        body.extend_from_slice(b"Content-Type: application/dicom\r\n\r\n");
        body.extend_from_slice(instance);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// The instances the answer says were stored; a failed one (FailedSOPSequence) is an
/// error naming it and its failure reason.
fn stored_of(url: &Url, answer: &Value) -> Result<Stored, PacsError> {
    let mut stored = Vec::new();
    // A PACS may answer one object, or an array holding it.
    let whole = match answer {
        Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    if let Some(failed) = sequence(&whole, "00081198").first() {
        let sop = element_string(failed, "00081155").unwrap_or_default();
        let reason = failed
            .get("00081197")
            .and_then(|e| e.get("Value"))
            .and_then(|v| v.get(0))
            .map(ToString::to_string)
            .unwrap_or_else(|| "no reason given".to_string());
        return Err(PacsError::BadAnswer {
            url: without_credentials(url),
            what: format!("the PACS refused instance {sop} (failure reason {reason})"),
        });
    }
    for item in sequence(&whole, "00081199") {
        if let Some(sop) = element_string(item, "00081155") {
            stored.push(sop);
        }
    }
    // An answer without sequences (a PACS that says little): objects() checks its shape.
    if stored.is_empty() && !whole.is_null() {
        objects(url, &Value::Array(vec![whole.clone()]))?;
    }
    Ok(Stored {
        url: without_credentials(url),
        stored,
    })
}

fn sequence<'a>(object: &'a Value, tag: &str) -> &'a [Value] {
    object
        .get(tag)
        .and_then(|element| element.get("Value"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn element_string(object: &Value, tag: &str) -> Option<String> {
    object
        .get(tag)?
        .get("Value")?
        .get(0)?
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url() -> Url {
        Url::parse("http://pacs/dicom-web/studies/1.2").expect("a url")
    }

    #[test]
    fn the_body_frames_each_instance_as_a_dicom_part() {
        let body = multipart_body(&[b"DICM-one".to_vec(), b"DICM-two".to_vec()]);
        let text = String::from_utf8(body).expect("ascii here");
        assert_eq!(
            text.matches("Content-Type: application/dicom\r\n\r\n")
                .count(),
            2
        );
        assert!(text.contains("DICM-one\r\n--"));
        assert!(text.ends_with(&format!("--{BOUNDARY}--\r\n")));
    }

    #[test]
    fn stored_and_refused_instances_are_read_from_the_answer() {
        let answer = json!({
            "00081199": {"vr": "SQ", "Value": [{"00081155": {"vr": "UI", "Value": ["1.2.3"]}}]}
        });
        let stored = stored_of(&url(), &answer).expect("stored");
        assert_eq!(stored.stored, ["1.2.3"]);
        let refused = json!({
            "00081198": {"vr": "SQ", "Value": [{
                "00081155": {"vr": "UI", "Value": ["1.2.4"]},
                "00081197": {"vr": "US", "Value": [272]}
            }]}
        });
        let error = stored_of(&url(), &refused)
            .expect_err("refused")
            .to_string();
        assert!(error.contains("1.2.4") && error.contains("272"), "{error}");
        assert_eq!(
            stored_of(&url(), &Value::Null).expect("quiet").stored.len(),
            0
        );
    }
}
