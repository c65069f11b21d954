//! WADO-RS: a series' metadata (every instance's header as DICOM JSON, no pixel data; a
//! call of [`CallKind::Metadata`] within the retrieval it serves); a whole series streamed
//! in one answer, each instance into a file as it arrives; and one instance retrieved into
//! a file. Instances come in whatever transfer syntax the PACS stores them (asked for
//! explicitly with `transfer-syntax=*`: the loader decodes them all), within a call of
//! [`CallKind::Retrieval`], which goes on while they arrive at its minimum rate.

use std::io::Write;
use std::path::{Path, PathBuf};

use hounsfield_volume::dicom::header::{FileKind, read_file_headers};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use super::call::Call;
use super::deadlines::CallKind;
use super::qido::{objects, required, uid_segment};
use super::request::{Attempt, get_json, retrying, send};
use super::{DicomWeb, PacsError, without_credentials};

/// What the instances of a series are asked for as: DICOM files in their stored transfer
/// syntax, one per part of a multipart/related answer.
pub const INSTANCE_ACCEPT: &str =
    "multipart/related; type=\"application/dicom\"; transfer-syntax=*";

/// One instance as the series' metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceMetadata {
    /// SOPInstanceUID.
    pub sop_uid: String,
    /// SHA-256 (hex) of its metadata, bulk-data addresses left out: an instance whose
    /// header changed on the PACS has another digest.
    pub digest: String,
}

/// Where a series is on the PACS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesAddress {
    /// StudyInstanceUID.
    pub study_uid: String,
    /// SeriesInstanceUID.
    pub series_uid: String,
}

impl SeriesAddress {
    /// The series' path under the base URL, its UIDs checked.
    pub(crate) fn path(&self, source: &DicomWeb) -> Result<String, PacsError> {
        Ok(format!(
            "studies/{}/series/{}",
            uid_segment(source, &self.study_uid)?,
            uid_segment(source, &self.series_uid)?
        ))
    }

    /// The URL of the whole series (all its instances in one answer).
    pub fn series_url(&self, source: &DicomWeb) -> Result<Url, PacsError> {
        source.url(&self.path(source)?)
    }

    /// The URL of the series' metadata.
    pub fn metadata_url(&self, source: &DicomWeb) -> Result<Url, PacsError> {
        source.url(&format!("{}/metadata", self.path(source)?))
    }

    /// The URL of one of its instances.
    pub fn instance_url(&self, source: &DicomWeb, sop_uid: &str) -> Result<Url, PacsError> {
        source.url(&format!(
            "{}/instances/{}",
            self.path(source)?,
            uid_segment(source, sop_uid)?
        ))
    }
}

/// The instances of a series from its metadata, in the PACS's order: a call of
/// [`CallKind::Metadata`] within `call`.
pub(crate) async fn series_metadata(
    call: &Call<'_>,
    series: &SeriesAddress,
) -> Result<Vec<InstanceMetadata>, PacsError> {
    let source = call.source();
    let url = series.metadata_url(source)?;
    let url = &url;
    let answer = call
        .within(CallKind::Metadata, url, |call| async move {
            get_json(&call, url).await
        })
        .await?;
    let mut instances = Vec::new();
    for object in objects(url, &answer)? {
        let sop_uid = required(url, object, "00080018")?;
        uid_segment(source, &sop_uid)?;
        let found_series = required(url, object, "0020000E")?;
        if found_series != series.series_uid {
            return Err(PacsError::BadAnswer {
                url: without_credentials(url),
                what: format!("instance {sop_uid} is of series {found_series}"),
            });
        }
        instances.push(InstanceMetadata {
            sop_uid,
            digest: digest(&Value::Object(object.clone())),
        });
    }
    Ok(instances)
}

/// SHA-256 of an instance's metadata with its bulk-data addresses left out (they name the
/// host the PACS was reached as, not the instance's content).
fn digest(metadata: &Value) -> String {
    fn strip(value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(key, _)| key.as_str() != "BulkDataURI")
                    .map(|(key, value)| (key.clone(), strip(value)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    let text = strip(metadata).to_string();
    let hash = Sha256::digest(text.as_bytes());
    hex::encode(hash)
}

/// Retrieves instance `sop_uid` of `series` into `file` (through `file.part`, renamed when
/// complete) within `call`; returns its size. At most the source's `max_instance_bytes`.
pub(crate) async fn retrieve_instance(
    call: &Call<'_>,
    series: &SeriesAddress,
    sop_uid: &str,
    file: &Path,
) -> Result<u64, PacsError> {
    let url = series.instance_url(call.source(), sop_uid)?;
    let part = file.with_extension("part");
    let size = retrying(call, &url, || attempt(call, &url, &part)).await;
    let size = match size {
        Ok(size) => size,
        Err(error) => {
            let _ = std::fs::remove_file(&part);
            return Err(error);
        }
    };
    std::fs::rename(&part, file).map_err(|source| PacsError::Cache {
        path: file.to_path_buf(),
        source,
    })?;
    Ok(size)
}

/// One try at an instance: the request, then its single DICOM part streamed into `part`.
async fn attempt(call: &Call<'_>, url: &Url, part: &Path) -> Result<u64, Attempt> {
    let limit = call.limits().max_instance_bytes;
    let mut parts = request_parts(call, url, limit + FRAMING).await?;
    let mut field = match parts.next_field().await {
        Ok(Some(field)) => field,
        Ok(None) => return Err(bad_answer(url, "no instance in the multipart answer")),
        Err(error) => return Err(multipart_error(url, limit, error)),
    };
    let size = write_part(&mut field, url, limit, part).await?;
    drop(field);
    // The rest of the answer (normally only the closing boundary) must hold no other part.
    match parts.next_field().await {
        Ok(Some(_)) => Err(bad_answer(url, "more than one part for one instance")),
        Ok(None) => Ok(size),
        Err(error) => Err(multipart_error(url, limit, error)),
    }
}

/// Room for the multipart framing around one instance.
const FRAMING: u64 = 64 << 10;

/// Asks `url` for DICOM instances within `call` and returns the multipart answer's parts,
/// at most `whole` bytes in all and the source's `max_instance_bytes` each.
async fn request_parts(
    call: &Call<'_>,
    url: &Url,
    whole: u64,
) -> Result<multer::Multipart<'static>, Attempt> {
    let request = call
        .get(url.clone())
        .header(reqwest::header::ACCEPT, INSTANCE_ACCEPT);
    let answer = send(call, url, request).await?;
    let status = answer.status();
    if status.is_server_error() {
        return Err(Attempt::Retry(format!("the PACS answered {status}")));
    }
    if !status.is_success() {
        return Err(Attempt::Fatal(PacsError::Status {
            url: without_credentials(url),
            status: status.as_u16(),
        }));
    }
    if let Some(declared) = answer.content_length().filter(|&n| n > whole) {
        return Err(Attempt::Fatal(PacsError::TooLarge {
            url: without_credentials(url),
            size: declared,
            limit: whole,
        }));
    }
    let content_type = answer.content_type();
    let boundary = multipart_boundary(&content_type).map_err(|what| bad_answer(url, &what))?;
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(whole)
            .per_field(call.limits().max_instance_bytes),
    );
    Ok(multer::Multipart::with_constraints(
        answer.body(),
        boundary,
        constraints,
    ))
}

/// Streams one part of a multipart answer into the file `part`: at most `limit` bytes,
/// not empty; returns its size.
async fn write_part(
    field: &mut multer::Field<'static>,
    url: &Url,
    limit: u64,
    part: &Path,
) -> Result<u64, Attempt> {
    let mut out = std::fs::File::create(part).map_err(|error| cache_error(part, error))?;
    let mut size = 0_u64;
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                size += chunk.len() as u64;
                if size > limit {
                    return Err(Attempt::Fatal(PacsError::TooLarge {
                        url: without_credentials(url),
                        size,
                        limit,
                    }));
                }
                out.write_all(&chunk)
                    .map_err(|error| cache_error(part, error))?;
            }
            Ok(None) => break,
            Err(error) => return Err(multipart_error(url, limit, error)),
        }
    }
    out.flush().map_err(|error| cache_error(part, error))?;
    if size == 0 {
        return Err(bad_answer(url, "an empty instance"));
    }
    Ok(size)
}

/// An instance of a series stream, complete on disk and identified by its own header.
#[derive(Debug)]
pub struct StreamedInstance {
    /// Its SOPInstanceUID, read from the file.
    pub sop_uid: String,
    /// The file it was written into (to be moved into place by the receiver).
    pub file: PathBuf,
    /// Its size.
    pub bytes: u64,
}

/// Retrieves the whole of `series` in one request within `call`, each instance written
/// into `folder` as it arrives and handed to `arrived` once complete, identified from its
/// own header (a part that is not DICOM, or of another series, ends the stream). One
/// attempt, within the source's `max_series_bytes` and `max_series_instances`: whatever
/// stops it, the instances handed over stay, and the caller fetches the rest one by one.
pub(crate) async fn retrieve_series(
    call: &Call<'_>,
    series: &SeriesAddress,
    folder: &Path,
    arrived: &mut dyn FnMut(StreamedInstance) -> Result<(), PacsError>,
) -> Result<usize, PacsError> {
    let url = series.series_url(call.source())?;
    let limits = call.limits();
    let final_error = |failure: Attempt| match failure {
        Attempt::Fatal(error) => error,
        Attempt::Retry(detail) => PacsError::Request {
            url: without_credentials(&url),
            detail,
        },
    };
    let mut parts = request_parts(call, &url, limits.max_series_bytes)
        .await
        .map_err(final_error)?;
    let part = folder.join("series-stream.part");
    let mut count = 0;
    loop {
        let mut field = match parts.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                let _ = std::fs::remove_file(&part);
                return Err(final_error(multipart_error(
                    &url,
                    limits.max_instance_bytes,
                    error,
                )));
            }
        };
        if count >= limits.max_series_instances {
            return Err(PacsError::BadAnswer {
                url: without_credentials(&url),
                what: format!("more than {} instances", limits.max_series_instances),
            });
        }
        let written = write_part(&mut field, &url, limits.max_instance_bytes, &part).await;
        let identified = written
            .map_err(final_error)
            .and_then(|bytes| identify(&url, series, &part, bytes));
        if let Err(error) = identified.and_then(&mut *arrived) {
            let _ = std::fs::remove_file(&part);
            return Err(error);
        }
        count += 1;
    }
    Ok(count)
}

/// The SOPInstanceUID of a streamed part, read by render-core's header reader; a part of
/// another series is refused.
fn identify(
    url: &Url,
    series: &SeriesAddress,
    part: &Path,
    bytes: u64,
) -> Result<StreamedInstance, PacsError> {
    let refused = |what: String| PacsError::BadAnswer {
        url: without_credentials(url),
        what,
    };
    let header = match read_file_headers(part) {
        Ok(FileKind::Images(headers)) => headers.into_iter().next(),
        Ok(FileKind::Directory) => None,
        Err(error) => return Err(refused(format!("a part is not a DICOM image: {error}"))),
    };
    let header = header.ok_or_else(|| refused("a part holds no image".to_string()))?;
    if header.identity.series_uid != series.series_uid {
        return Err(refused(format!(
            "instance {} is of series {}",
            header.sop_instance_uid, header.identity.series_uid
        )));
    }
    if header.sop_instance_uid.is_empty() {
        return Err(refused("a part has no SOPInstanceUID".to_string()));
    }
    Ok(StreamedInstance {
        sop_uid: header.sop_instance_uid,
        file: part.to_path_buf(),
        bytes,
    })
}

fn bad_answer(url: &Url, what: &str) -> Attempt {
    Attempt::Fatal(PacsError::BadAnswer {
        url: without_credentials(url),
        what: what.to_string(),
    })
}

/// The boundary of a `multipart/related` content type.
fn multipart_boundary(content_type: &str) -> Result<String, String> {
    let mime: mime::Mime = content_type
        .parse()
        .map_err(|_| format!("Content-Type {content_type:?} is not a media type"))?;
    if mime.type_() != mime::MULTIPART || mime.subtype().as_str() != "related" {
        return Err(format!(
            "Content-Type {content_type:?}: expected multipart/related"
        ));
    }
    mime.get_param(mime::BOUNDARY)
        .map(|boundary| boundary.as_str().to_string())
        .ok_or_else(|| format!("Content-Type {content_type:?} has no boundary"))
}

/// A multipart error: a stream that broke off may pass (retried); a malformed or oversized
/// answer is final.
fn multipart_error(url: &Url, limit: u64, error: multer::Error) -> Attempt {
    match error {
        multer::Error::StreamReadFailed(cause) => {
            Attempt::Retry(format!("the answer broke off: {cause}"))
        }
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            Attempt::Fatal(PacsError::TooLarge {
                url: without_credentials(url),
                size: limit + 1,
                limit,
            })
        }
        other => Attempt::Fatal(PacsError::BadAnswer {
            url: without_credentials(url),
            what: format!("malformed multipart answer: {other}"),
        }),
    }
}

fn cache_error(path: &Path, source: std::io::Error) -> Attempt {
    Attempt::Fatal(PacsError::Cache {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_come_from_multipart_related_only() {
        assert_eq!(
            multipart_boundary("multipart/related; type=\"application/dicom\"; boundary=abc-1"),
            Ok("abc-1".to_string())
        );
        assert!(multipart_boundary("application/dicom").is_err());
        assert!(multipart_boundary("multipart/related; type=\"application/dicom\"").is_err());
    }

    #[test]
    fn the_digest_ignores_bulk_data_addresses_and_sees_header_changes() {
        let a = serde_json::json!({"7FE00010": {"vr": "OW", "BulkDataURI": "http://a/1"}, "00200013": {"vr": "IS", "Value": [1]}});
        let b = serde_json::json!({"7FE00010": {"vr": "OW", "BulkDataURI": "http://b/1"}, "00200013": {"vr": "IS", "Value": [1]}});
        let c = serde_json::json!({"7FE00010": {"vr": "OW", "BulkDataURI": "http://a/1"}, "00200013": {"vr": "IS", "Value": [2]}});
        assert_eq!(digest(&a), digest(&b));
        assert_ne!(digest(&a), digest(&c));
    }
}
