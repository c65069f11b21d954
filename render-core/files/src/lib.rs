//! Files whose kind and size are not trusted (a library's DICOM files, certificates and
//! keys, the users file, the desktop's settings, a PACS cache's manifest). Opened
//! ([`open_regular`]) only when the opened handle is a regular file, without waiting on
//! a pipe or device; read ([`read_at_most`]) never past a limit, whatever size the file
//! claims or grows to; written ([`write_whole`]) through a temporary file beside the
//! target, its permissions set before a byte is written, then renamed over the target,
//! so that a reader sees the old file or the new one, never half of one, and never a
//! moment of wider permissions.

mod open;
mod read;
mod write;

pub use open::{kind_name, not_regular, open_regular};
pub use read::{SmallFileError, read_at_most, read_text_at_most};
pub use write::{Permissions, write_whole};
