//! Named users with roles: the `--users` file (TOML) that says who may connect, as what,
//! and until when. The file holds each user's name, role, optional expiry and the SHA-256
//! of their token, never the token itself: tokens are 128 random bits
//! ([`crate::token::generate_token`]), so a plain hash is enough (there is no dictionary
//! to try against it, and no need for a slow, salted password hash).
//!
//! ```toml
//! [[user]]
//! name = "alice"
//! role = "reader"
//! token_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! expires = "2026-12-31"          # optional: a date (valid through that day, UTC) or an RFC 3339 time
//! ```
//!
//! [`UserTable::parse`] checks everything and names the file, the user and the field at
//! fault; [`UserTable::save`] writes the file whole (a temporary file renamed over it,
//! readable by its owner only), as `hounsfield users add` and `remove` do.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use hounsfield_files::{SmallFileError, read_at_most};

/// Largest users file read (a file this large is a mistake, not a list of people).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// May only join sessions others share, and only watch.
    Viewer,
    /// Opens any series of the library, steers its own sessions and may share one.
    Reader,
    /// A reader who may also read `/metrics` and the admin view, and end sessions.
    Admin,
}

impl Role {
    /// Every role, least first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Reader, Role::Admin];

    /// The role's name in the file and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Reader => "reader",
            Role::Admin => "admin",
        }
    }

    /// The role of this name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.name() == name)
    }

    /// Whether this role opens series of the library itself (and shares its sessions).
    pub fn opens_series(self) -> bool {
        self >= Role::Reader
    }

    /// Whether this role reads `/metrics` and the admin view.
    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One user of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The name the audit log and the admin view show.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// SHA-256 of the user's token.
    pub token_sha256: [u8; 32],
    /// When the user's access ends, if it does.
    pub expires: Option<Expiry>,
}

impl User {
    /// A user who logs in with `token` (only its hash is kept).
    pub fn with_token(name: &str, role: Role, token: &str, expires: Option<Expiry>) -> Self {
        Self {
            name: name.to_string(),
            role,
            token_sha256: token_sha256(token),
            expires,
        }
    }

    /// Whether the user's access has ended at `now`.
    pub fn expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires.is_some_and(|expiry| expiry.at <= now)
    }

    /// Whether the user's access has ended now.
    pub fn expired(&self) -> bool {
        self.expired_at(Utc::now())
    }
}

/// When a user's access ends, and how the file says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// The first instant the user is refused.
    pub at: DateTime<Utc>,
    /// Given as a date (valid through that day, UTC) rather than a time.
    date: Option<NaiveDate>,
}

impl Expiry {
    /// Whether this expiry has passed.
    pub fn is_past(&self) -> bool {
        self.at <= Utc::now()
    }

    /// Parses a date (`2026-12-31`: valid through that day, UTC) or an RFC 3339 time
    /// (`2026-12-31T18:00:00+01:00`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            let next = date
                .succ_opt()
                .and_then(|next| next.and_hms_opt(0, 0, 0))
                .ok_or_else(|| format!("{text:?} is past the last date there is"))?;
            return Ok(Self {
                at: next.and_utc(),
                date: Some(date),
            });
        }
        DateTime::parse_from_rfc3339(text)
            .map(|time| Self {
                at: time.with_timezone(&Utc),
                date: None,
            })
            .map_err(|_| {
                format!(
                    "{text:?} is neither a date (2026-12-31) nor an RFC 3339 time with its offset (2026-12-31T18:00:00Z)"
                )
            })
    }
}

impl fmt::Display for Expiry {
    /// As the file says it: the date, or the time in UTC.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.date {
            Some(date) => write!(f, "{}", date.format("%Y-%m-%d")),
            None => f.write_str(&self.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        }
    }
}

/// The SHA-256 of a token.
pub fn token_sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether two secrets (access tokens, token hashes) are equal, compared in time
/// independent of where they differ (secrets of different lengths never match).
pub fn secrets_match(expected: &[u8], given: &[u8]) -> bool {
    expected.ct_eq(given).into()
}

/// Why a users file was not taken.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The users file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not TOML, or not laid out as a users file.
    #[error("{}: {message}", path.display())]
    Format {
        /// The users file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// One user's field is missing or wrong.
    #[error("{}: user {user}: {field}: {problem}", path.display())]
    Field {
        /// The users file.
        path: PathBuf,
        /// The user's name, or `#N` (from 1) when it has none.
        user: String,
        /// The field at fault.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// Two users with one name or one token.
    #[error("{}: {message}", path.display())]
    Duplicate {
        /// The users file.
        path: PathBuf,
        /// Which users clash.
        message: String,
    },
}

/// A users file as read: where it is, its text and its users.
#[derive(Debug, Clone)]
pub struct UsersFile {
    /// Where the file is.
    pub path: PathBuf,
    /// Its text when read.
    pub text: String,
    /// Its users.
    pub table: UserTable,
}

impl UsersFile {
    /// Reads and checks the users file at `path`.
    pub fn load(path: &Path) -> Result<Self, UsersError> {
        let text = read_text(path)?;
        let table = UserTable::parse(path, &text)?;
        Ok(Self {
            path: path.to_path_buf(),
            text,
            table,
        })
    }
}

/// The text of the users file at `path`, refused unread beyond [`MAX_FILE_BYTES`].
pub fn read_text(path: &Path) -> Result<String, UsersError> {
    let io = |source| UsersError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = read_at_most(path, MAX_FILE_BYTES).map_err(|error| match error {
        SmallFileError::Io(source) => io(source),
        SmallFileError::TooLarge(size) => UsersError::Format {
            path: path.to_path_buf(),
            message: format!("{size} bytes: a users file is at most {MAX_FILE_BYTES}"),
        },
    })?;
    String::from_utf8(bytes)
        .map_err(|error| io(std::io::Error::new(std::io::ErrorKind::InvalidData, error)))
}

/// The users of one file, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserTable {
    users: Vec<User>,
}

/// Whether `name` is a user name the file takes: 1 to 64 letters, digits, `.`, `_`, `-`
/// or `@` (it appears in the audit log and the admin view as it is).
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 64 {
        return Err("a name has 1 to 64 characters".to_string());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
    {
        return Err(format!(
            "{bad:?} is not allowed in a name (letters, digits, '.', '_', '-', '@')"
        ));
    }
    Ok(())
}

impl UserTable {
    /// Reads and checks the users file at `path`.
    pub fn load(path: &Path) -> Result<Self, UsersError> {
        UsersFile::load(path).map(|file| file.table)
    }

    /// Parses and checks the text of a users file (`path` names it in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Self, UsersError> {
        let document = toml::Deserializer::parse(text).map_err(|error| {
            let line = error.span().map_or(0, |span| {
                text[..span.start.min(text.len())].matches('\n').count() + 1
            });
            UsersError::Format {
                path: path.to_path_buf(),
                message: format!("line {line}: not TOML: {}", error.message()),
            }
        })?;
        let document: UsersDocument = serde_path_to_error::deserialize(document)
            .map_err(|error| layout_error(path, text, &error))?;
        let users = document
            .user
            .into_iter()
            .enumerate()
            .map(|(index, entry)| entry.check(path, index))
            .collect::<Result<Vec<_>, _>>()?;
        let table = Self { users };
        table.check_unique(path)?;
        Ok(table)
    }

    fn check_unique(&self, path: &Path) -> Result<(), UsersError> {
        for (i, user) in self.users.iter().enumerate() {
            for other in &self.users[..i] {
                let message = if other.name == user.name {
                    format!("two users named {:?}", user.name)
                } else if secrets_match(&other.token_sha256, &user.token_sha256) {
                    format!(
                        "users {:?} and {:?} have the same token: give each a token of their own",
                        other.name, user.name
                    )
                } else {
                    continue;
                };
                return Err(UsersError::Duplicate {
                    path: path.to_path_buf(),
                    message,
                });
            }
        }
        Ok(())
    }

    /// Every user, in the file's order.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// The user of this name.
    pub fn get(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|user| user.name == name)
    }

    /// The user whose token this is. Every user's hash is compared, each in constant time,
    /// so how long it takes says nothing about which (or whether one) matched.
    pub fn find_by_token(&self, token: &str) -> Option<&User> {
        let hash = token_sha256(token);
        self.users.iter().fold(None, |found, user| {
            let matches = secrets_match(&user.token_sha256, &hash);
            if matches { Some(user) } else { found }
        })
    }

    /// Adds a user (the name checked, refused when taken).
    pub fn add(&mut self, user: User) -> Result<(), String> {
        check_name(&user.name)?;
        if self.get(&user.name).is_some() {
            return Err(format!("there is already a user named {:?}", user.name));
        }
        self.users.push(user);
        Ok(())
    }

    /// Removes the user of this name; whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.users.len();
        self.users.retain(|user| user.name != name);
        self.users.len() != before
    }

    /// The file's text.
    pub fn to_toml(&self) -> String {
        let mut text = String::from(
            "# Hounsfield users (hounsfield users add/list/remove; read by hounsfield --serve --users).\n\
             # Each token is kept as its SHA-256 only; roles: viewer, reader, admin.\n",
        );
        for user in &self.users {
            text.push_str("\n[[user]]\n");
            text.push_str(&format!(
                "name = {}\n",
                toml::Value::String(user.name.clone())
            ));
            text.push_str(&format!("role = \"{}\"\n", user.role));
            text.push_str(&format!(
                "token_sha256 = \"{}\"\n",
                hex::encode(user.token_sha256)
            ));
            if let Some(expiry) = user.expires {
                text.push_str(&format!("expires = \"{expiry}\"\n"));
            }
        }
        text
    }

    /// Writes the file whole: a temporary file beside it (readable by its owner only),
    /// flushed to disk, then renamed over it, so a reader never sees half a file. A file
    /// that exists keeps its mode, owner and group (`root:hounsfield 0640` as the Debian
    /// package makes it: the service must still read it after an admin's change).
    pub fn save(&self, path: &Path) -> Result<(), UsersError> {
        let io = |source| UsersError::Io {
            path: path.to_path_buf(),
            source,
        };
        hounsfield_files::write_whole(
            path,
            self.to_toml().as_bytes(),
            hounsfield_files::Permissions::KeepExisting,
        )
        .map_err(io)
    }
}

/// The fields of a `[[user]]` table, as an error about an unknown one lists them.
const USER_FIELDS: [&str; 4] = ["name", "role", "token_sha256", "expires"];

/// A users file as TOML lays it out: `[[user]]` tables and nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersDocument {
    /// The `[[user]]` tables, in the file's order.
    #[serde(default)]
    user: Vec<UserEntry>,
}

/// One `[[user]]` table as written, before [`UserEntry::check`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    name: Option<String>,
    role: Option<String>,
    token_sha256: Option<String>,
    /// A string, or an unquoted TOML date or date-time (which says the same as its text).
    expires: Option<toml::Value>,
    /// Never taken: read only to say what to write instead of a token in clear.
    token: Option<serde::de::IgnoredAny>,
}

impl UserEntry {
    /// The user this table describes, checked (`index` from 0 names it while it has no
    /// good name).
    fn check(self, path: &Path, index: usize) -> Result<User, UsersError> {
        let mut user = format!("#{}", index + 1);
        let field = |user: &str, field: &'static str, problem: String| UsersError::Field {
            path: path.to_path_buf(),
            user: user.to_string(),
            field,
            problem,
        };
        let name = self
            .name
            .ok_or_else(|| field(&user, "name", "missing".to_string()))?;
        check_name(&name).map_err(|problem| field(&user, "name", problem))?;
        user = format!("{name:?}");
        if self.token.is_some() {
            return Err(field(
                &user,
                "token",
                "the file keeps no tokens, only their SHA-256 as token_sha256 (hounsfield users add writes it)"
                    .to_string(),
            ));
        }
        let role = match self.role {
            Some(role) => Role::parse(&role).ok_or_else(|| {
                field(
                    &user,
                    "role",
                    format!("{role:?} is not a role: viewer, reader or admin"),
                )
            })?,
            None => {
                return Err(field(
                    &user,
                    "role",
                    "missing (viewer, reader or admin)".to_string(),
                ));
            }
        };
        let hash = self
            .token_sha256
            .ok_or_else(|| field(&user, "token_sha256", "missing".to_string()))?;
        let token_sha256 = parse_hash(&hash).ok_or_else(|| {
            field(
                &user,
                "token_sha256",
                "must be 64 hexadecimal digits (the SHA-256 of the token)".to_string(),
            )
        })?;
        let expires = match self.expires {
            None => None,
            Some(toml::Value::String(text)) => {
                Some(Expiry::parse(&text).map_err(|problem| field(&user, "expires", problem))?)
            }
            Some(toml::Value::Datetime(time)) => Some(
                Expiry::parse(&time.to_string())
                    .map_err(|problem| field(&user, "expires", problem))?,
            ),
            Some(_) => return Err(field(&user, "expires", wrong_type("expires"))),
        };
        Ok(User {
            name,
            role,
            token_sha256,
            expires,
        })
    }
}

/// What a field of a `[[user]]` table must be, said when it is of another type.
fn wrong_type(field: &str) -> String {
    match field {
        "expires" => "must be a date or an RFC 3339 time".to_string(),
        _ => "must be a string".to_string(),
    }
}

/// The error for a file whose TOML is not laid out as a users file, naming the user and
/// the field where the error lies in one.
fn layout_error(
    path: &Path,
    text: &str,
    error: &serde_path_to_error::Error<toml::de::Error>,
) -> UsersError {
    use serde_path_to_error::Segment;
    let format = |message: String| UsersError::Format {
        path: path.to_path_buf(),
        message,
    };
    let segments: Vec<&Segment> = error.path().iter().collect();
    match segments.as_slice() {
        [Segment::Map { key }] if key == "user" => {
            format("`user` must be an array of tables: write each as [[user]]".to_string())
        }
        [Segment::Map { key }] => format(format!(
            "unknown key {key:?}: a users file has only [[user]] tables"
        )),
        [Segment::Map { .. }, Segment::Seq { index }] => {
            format(format!("user #{}: not a table", index + 1))
        }
        [
            Segment::Map { .. },
            Segment::Seq { index },
            Segment::Map { key },
            ..,
        ] => {
            let (field, problem) = match USER_FIELDS.into_iter().find(|field| field == key) {
                Some(field) => (field, wrong_type(field)),
                None => (
                    "fields",
                    format!("unknown field {key:?} ({})", USER_FIELDS.join(", ")),
                ),
            };
            UsersError::Field {
                path: path.to_path_buf(),
                user: user_label(text, *index),
                field,
                problem,
            }
        }
        _ => format(error.inner().message().to_string()),
    }
}

/// How an error names user `index` (from 0) of the file: by its name when it has a good
/// one, else as `#N`.
fn user_label(text: &str, index: usize) -> String {
    let name = toml::from_str::<toml::Table>(text).ok().and_then(|table| {
        let name = table.get("user")?.get(index)?.get("name")?.as_str()?;
        check_name(name).is_ok().then(|| format!("{name:?}"))
    });
    name.unwrap_or_else(|| format!("#{}", index + 1))
}

/// 64 hexadecimal digits (either case) as 32 bytes.
fn parse_hash(text: &str) -> Option<[u8; 32]> {
    let mut hash = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut hash).ok()?;
    Some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<UserTable, UsersError> {
        UserTable::parse(Path::new("users.toml"), text)
    }

    fn hash_of(token: &str) -> String {
        hex::encode(token_sha256(token))
    }

    fn entry(name: &str, role: &str, token: &str, expires: Option<&str>) -> String {
        let expires = expires.map_or(String::new(), |e| format!("expires = {e}\n"));
        format!(
            "[[user]]\nname = \"{name}\"\nrole = \"{role}\"\ntoken_sha256 = \"{}\"\n{expires}\n",
            hash_of(token)
        )
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(secrets_match(b"abc123", b"abc123"));
        assert!(!secrets_match(b"abc123", b"abc124"));
        assert!(!secrets_match(b"abc123", b"abc12"));
        assert!(!secrets_match(b"abc123", b""));
        assert!(secrets_match(&token_sha256("t"), &token_sha256("t")));
        assert!(!secrets_match(&token_sha256("t"), &token_sha256("u")));
    }

    #[test]
    fn users_parse_and_tokens_find_their_user() {
        let text = entry("alice", "reader", "a-token", None)
            + &entry("bob", "viewer", "b-token", Some("\"2030-01-31\""))
            + &entry(
                "carol",
                "admin",
                "c-token",
                Some("2030-01-31T12:00:00+02:00"),
            );
        let table = parse(&text).expect("a good file");
        assert_eq!(table.users().len(), 3);
        assert_eq!(
            table.find_by_token("b-token").map(|u| u.name.as_str()),
            Some("bob")
        );
        assert_eq!(
            table.find_by_token("c-token").map(|u| u.role),
            Some(Role::Admin)
        );
        assert!(table.find_by_token("a-toke").is_none());
        assert!(table.find_by_token("").is_none());
        let carol = table.get("carol").and_then(|u| u.expires).expect("expires");
        assert_eq!(carol.at.to_rfc3339(), "2030-01-31T10:00:00+00:00");
    }

    #[test]
    fn a_date_is_valid_through_that_day_and_a_time_until_then() {
        let date = Expiry::parse("2030-01-31").expect("a date");
        assert_eq!(date.at.to_rfc3339(), "2030-02-01T00:00:00+00:00");
        assert_eq!(date.to_string(), "2030-01-31");
        let time = Expiry::parse("2030-01-31T18:30:00Z").expect("a time");
        assert_eq!(time.to_string(), "2030-01-31T18:30:00Z");
        let user = User {
            name: "a".to_string(),
            role: Role::Reader,
            token_sha256: token_sha256("t"),
            expires: Some(time),
        };
        let before = Expiry::parse("2030-01-31T18:29:59Z").expect("a time").at;
        assert!(!user.expired_at(before));
        assert!(user.expired_at(time.at));
        for bad in [
            "2030-13-01",
            "31/01/2030",
            "2030-01-31T18:30:00",
            "tomorrow",
            "",
        ] {
            assert!(Expiry::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_files_name_the_user_and_the_field() {
        let cases: [(String, &str); 15] = [
            ("user = 3".to_string(), "[[user]]"),
            ("[other]\na = 1".to_string(), "unknown key \"other\""),
            ("user = [1]".to_string(), "user #1: not a table"),
            (
                "[[user]]\nname = 3".to_string(),
                "user #1: name: must be a string",
            ),
            (
                entry("alice", "reader", "x", None).replace("role = \"reader\"", "role = 1"),
                "user \"alice\": role: must be a string",
            ),
            (
                entry("alice", "reader", "x", Some("[2030]")),
                "user \"alice\": expires: must be a date or an RFC 3339 time",
            ),
            (
                "[[user]]\nrole = \"reader\"".to_string(),
                "user #1: name: missing",
            ),
            (
                entry("alice", "reader", "x", None) + &entry("al ice", "reader", "y", None),
                "user #2: name: ' '",
            ),
            (
                entry("alice", "owner", "x", None),
                "user \"alice\": role: \"owner\" is not a role",
            ),
            (
                "[[user]]\nname = \"alice\"\nrole = \"reader\"\ntoken_sha256 = \"abc\"".to_string(),
                "user \"alice\": token_sha256: must be 64 hexadecimal digits",
            ),
            (
                "[[user]]\nname = \"alice\"\nrole = \"reader\"\ntoken = \"secret\"".to_string(),
                "user \"alice\": token: the file keeps no tokens",
            ),
            (
                entry("alice", "reader", "x", Some("\"next week\"")),
                "user \"alice\": expires: \"next week\" is neither",
            ),
            (
                entry("alice", "reader", "x", None).replace("role", "colour = 1\nrole"),
                "user \"alice\": fields: unknown field \"colour\"",
            ),
            (
                entry("alice", "reader", "x", None) + &entry("alice", "viewer", "y", None),
                "two users named \"alice\"",
            ),
            (
                entry("alice", "reader", "x", None) + &entry("bob", "viewer", "x", None),
                "users \"alice\" and \"bob\" have the same token",
            ),
        ];
        for (text, expected) in cases {
            let error = parse(&text).expect_err(&text).to_string();
            assert!(error.starts_with("users.toml: "), "{error}");
            assert!(
                error.contains(expected),
                "{error:?} should say {expected:?}"
            );
        }
        assert!(
            parse("[[user]\n")
                .expect_err("not TOML")
                .to_string()
                .contains("not TOML")
        );
    }

    #[test]
    fn a_table_written_reads_back_the_same_and_holds_no_token() {
        let mut table = UserTable::default();
        for (name, role, expires) in [
            ("alice", Role::Reader, None),
            ("bob.oneil@ward-3", Role::Viewer, Some("2030-01-31")),
            ("carol", Role::Admin, Some("2030-01-31T18:30:00+01:00")),
        ] {
            table
                .add(User {
                    name: name.to_string(),
                    role,
                    token_sha256: token_sha256(&format!("{name}-secret")),
                    expires: expires.map(|e| Expiry::parse(e).expect("an expiry")),
                })
                .expect("added");
        }
        assert!(
            table
                .add(User {
                    name: "alice".to_string(),
                    role: Role::Admin,
                    token_sha256: token_sha256("other"),
                    expires: None,
                })
                .is_err()
        );
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("users.toml");
        table.save(&path).expect("saved");
        let text = std::fs::read_to_string(&path).expect("readable");
        assert!(!text.contains("secret"), "{text}");
        let back = UserTable::load(&path).expect("reads back");
        assert_eq!(back.users().len(), 3);
        assert_eq!(
            back.get("bob.oneil@ward-3").map(|u| u.role),
            Some(Role::Viewer)
        );
        assert_eq!(
            back.get("carol").and_then(|u| u.expires).map(|e| e.at),
            table.get("carol").and_then(|u| u.expires).map(|e| e.at)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mut fewer = back.clone();
        assert!(fewer.remove("alice"));
        assert!(!fewer.remove("alice"));
        // A file the package made group-readable for the service stays so.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        }
        fewer.save(&path).expect("saved again");
        assert_eq!(UserTable::load(&path).expect("reads").users().len(), 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o640, "the mode is kept");
        }
        let leftovers = std::fs::read_dir(folder.path()).expect("listed").count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }
}
