//! Who a client is and what it may do: a token resolves to an [`Identity`] (a user of the
//! `--users` file, the one user of `--token`, or nobody in particular on a loopback server
//! without either), the users file is read again when it changes, and a session whose user
//! was removed, changed or has expired is told to end ([`Ending`]; the server's task that
//! looks is its access watch).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::audit::{AuditEvent, AuditLog};
use crate::users::{Role, UserTable, UsersFile, secrets_match};

/// How often the users file is looked at, and expiries checked.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

/// The name `--token`'s one user goes by (in the audit log and the admin view).
pub const TOKEN_USER: &str = "token";

/// Who a session or a request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user's name; none on a server that asks for no token.
    pub name: Option<String>,
    /// What the user may do.
    pub role: Role,
    /// The hash of the token the user was let in with (users of the file only): a user
    /// given a new token in the file is no longer this identity.
    token_sha256: Option<[u8; 32]>,
    /// Signed in by the site's identity provider, not by a token: the file does not
    /// name them, and their login's lifetime bounds them.
    signed_on: bool,
}

impl Identity {
    /// Anyone, on a server that asks for no token: everything is open to them, as before
    /// there were users.
    pub fn anyone() -> Self {
        Self {
            name: None,
            role: Role::Admin,
            token_sha256: None,
            signed_on: false,
        }
    }

    /// A user the site's identity provider signed in, with the role its claims gave.
    pub fn signed_on(name: String, role: Role) -> Self {
        Self {
            name: Some(name),
            role,
            token_sha256: None,
            signed_on: true,
        }
    }

    /// Whether the site's identity provider signed this user in.
    pub fn is_signed_on(&self) -> bool {
        self.signed_on
    }

    /// The name for the audit log and the admin view.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }
}

/// Why the server ends a session that is going well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The user is no longer in the users file, or has another token now.
    UserRemoved,
    /// The user's role changed in the users file.
    UserChanged,
    /// The user's access expired.
    UserExpired,
    /// An admin ended it.
    EndedByAdmin,
}

impl Ending {
    /// The `reason` of `session_end` in the audit log.
    pub fn audit_reason(self) -> &'static str {
        match self {
            Ending::UserRemoved => "user_removed",
            Ending::UserChanged => "user_changed",
            Ending::UserExpired => "user_expired",
            Ending::EndedByAdmin => "ended_by_admin",
        }
    }

    /// The reason of the WebSocket close frame (code 1008), for the person.
    pub fn close_reason(self) -> &'static str {
        match self {
            Ending::UserRemoved => "user removed",
            Ending::UserChanged => "user's role changed: connect again",
            Ending::UserExpired => "user's access expired",
            Ending::EndedByAdmin => "ended by an administrator",
        }
    }
}

/// What a token turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    /// A user who may come in.
    Granted(Identity),
    /// A user whose access has expired (the name, for the audit log).
    Expired(String),
    /// Nobody's token.
    Wrong,
}

/// How clients prove who they are.
#[derive(Debug)]
enum Mode {
    /// No token asked for (loopback only).
    Open,
    /// No token taken: users sign in through the site's identity provider only.
    SignOnOnly,
    /// One token, one user (`--token`): a reader.
    Token(String),
    /// The users of a file, read again when it changes.
    File {
        path: PathBuf,
        table: RwLock<Arc<UserTable>>,
        /// What the poll saw last: the file's text or why it could not be read.
        last_seen: Mutex<Result<String, String>>,
        /// Users whose expiry has been recorded.
        expired: Mutex<Vec<String>>,
    },
}

/// The server's users and how tokens are checked.
#[derive(Debug)]
pub struct Access {
    mode: Mode,
}

impl Access {
    /// From the server's `--users` file, else its `--token`, else open; with `sign_on`
    /// (the site's identity provider signs users in) never open.
    pub fn new(users: Option<&UsersFile>, token: Option<&str>, sign_on: bool) -> Self {
        let mode = match (users, token) {
            (Some(file), _) => {
                let now = Utc::now();
                Mode::File {
                    path: file.path.clone(),
                    last_seen: Mutex::new(Ok(file.text.clone())),
                    expired: Mutex::new(
                        file.table
                            .users()
                            .iter()
                            .filter(|user| user.expired_at(now))
                            .map(|user| user.name.clone())
                            .collect(),
                    ),
                    table: RwLock::new(Arc::new(file.table.clone())),
                }
            }
            (None, Some(token)) => Mode::Token(token.to_string()),
            (None, None) if sign_on => Mode::SignOnOnly,
            (None, None) => Mode::Open,
        };
        Self { mode }
    }

    /// Whether clients must present a token.
    pub fn required(&self) -> bool {
        !matches!(self.mode, Mode::Open)
    }

    /// Whether the users come from a file (read again when it changes).
    pub fn watches_file(&self) -> bool {
        matches!(self.mode, Mode::File { .. })
    }

    fn table(&self) -> Option<Arc<UserTable>> {
        match &self.mode {
            Mode::File { table, .. } => Some(
                table
                    .read()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone(),
            ),
            _ => None,
        }
    }

    /// Who `token` belongs to, at `now`.
    pub fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Authentication {
        match &self.mode {
            Mode::Open => Authentication::Granted(Identity::anyone()),
            Mode::Token(expected) if secrets_match(expected.as_bytes(), token.as_bytes()) => {
                Authentication::Granted(Identity {
                    name: Some(TOKEN_USER.to_string()),
                    role: Role::Reader,
                    token_sha256: None,
                    signed_on: false,
                })
            }
            Mode::Token(_) | Mode::SignOnOnly => Authentication::Wrong,
            Mode::File { .. } => {
                let table = self.table().unwrap_or_default();
                match table.find_by_token(token) {
                    None => Authentication::Wrong,
                    Some(user) if user.expired_at(now) => {
                        Authentication::Expired(user.name.clone())
                    }
                    Some(user) => Authentication::Granted(Identity {
                        name: Some(user.name.clone()),
                        role: user.role,
                        token_sha256: Some(user.token_sha256),
                        signed_on: false,
                    }),
                }
            }
        }
    }

    /// Whether `identity` may read `/metrics`: an admin, or `--token`'s user (who read it
    /// before there were roles).
    pub fn reads_metrics(&self, identity: &Identity) -> bool {
        identity.role.is_admin() || matches!(self.mode, Mode::Token(_))
    }

    /// Whether a session of `identity` may go on at `now`, or why it must end.
    pub fn still_allowed(&self, identity: &Identity, now: DateTime<Utc>) -> Result<(), Ending> {
        if identity.signed_on {
            return Ok(());
        }
        let Some(table) = self.table() else {
            return Ok(());
        };
        let user = identity
            .name
            .as_deref()
            .and_then(|name| table.get(name))
            .filter(|user| Some(user.token_sha256) == identity.token_sha256)
            .ok_or(Ending::UserRemoved)?;
        if user.role != identity.role {
            return Err(Ending::UserChanged);
        }
        if user.expired_at(now) {
            return Err(Ending::UserExpired);
        }
        Ok(())
    }

    /// Reads the users file again when its text changed: a good file replaces the users
    /// (removals, changes and the new count are recorded in the audit log), a bad one is
    /// reported once and the users stay as they were. Then records users whose access
    /// expired since the last look.
    pub fn poll(&self, audit: &AuditLog, now: DateTime<Utc>) {
        let Mode::File {
            path,
            table,
            last_seen,
            expired,
        } = &self.mode
        else {
            return;
        };
        let seen = read_small(path);
        let mut last = last_seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *last != seen {
            *last = seen.clone();
            let parsed = seen
                .and_then(|text| UserTable::parse(path, &text).map_err(|error| error.to_string()));
            match parsed {
                Ok(new) => {
                    let mut current = table
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    record_changes(audit, &current, &new);
                    tracing::info!(path = %path.display(), users = new.users().len(), "users file read again");
                    audit.record(&AuditEvent::UsersLoaded {
                        path: path.display().to_string(),
                        users: new.users().len(),
                    });
                    *current = Arc::new(new);
                }
                Err(error) => {
                    tracing::warn!(%error, "users file not taken: the users stay as they were");
                    audit.record(&AuditEvent::UsersLoadFailed {
                        path: path.display().to_string(),
                        error,
                    });
                }
            }
        }
        drop(last);
        let current = self.table().unwrap_or_default();
        let mut expired = expired
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        expired.retain(|name| current.get(name).is_some_and(|user| user.expired_at(now)));
        for user in current.users() {
            if user.expired_at(now) && !expired.contains(&user.name) {
                expired.push(user.name.clone());
                audit.record(&AuditEvent::UserExpired {
                    user: user.name.clone(),
                });
            }
        }
    }
}

/// Records the users `new` removes or changes against `old`.
fn record_changes(audit: &AuditLog, old: &UserTable, new: &UserTable) {
    for user in old.users() {
        let event = match new.get(&user.name) {
            None => AuditEvent::UserRemoved {
                user: user.name.clone(),
            },
            Some(now) if now != user => AuditEvent::UserChanged {
                user: user.name.clone(),
            },
            Some(_) => continue,
        };
        audit.record(&event);
    }
}

/// The users file's text, or why it could not be read.
fn read_small(path: &std::path::Path) -> Result<String, String> {
    crate::users::read_text(path).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::{Expiry, User};

    fn file(users: &[(&str, Role, &str, Option<&str>)]) -> UsersFile {
        let mut table = UserTable::default();
        for (name, role, token, expires) in users {
            let expires = expires.map(|e| Expiry::parse(e).expect("an expiry"));
            table
                .add(User::with_token(name, *role, token, expires))
                .expect("added");
        }
        UsersFile {
            path: PathBuf::from("users.toml"),
            text: table.to_toml(),
            table,
        }
    }

    #[test]
    fn tokens_resolve_to_users_and_expired_users_are_told_apart() {
        let access = Access::new(
            Some(&file(&[
                ("alice", Role::Viewer, "a", None),
                ("bob", Role::Admin, "b", Some("2030-01-01")),
            ])),
            None,
            false,
        );
        assert!(access.required());
        let now = Utc::now();
        let Authentication::Granted(alice) = access.authenticate("a", now) else {
            panic!("alice is let in");
        };
        assert_eq!((alice.label(), alice.role), ("alice", Role::Viewer));
        assert!(!access.reads_metrics(&alice));
        assert_eq!(access.authenticate("c", now), Authentication::Wrong);
        let later = Expiry::parse("2030-01-02").expect("a date").at;
        assert_eq!(
            access.authenticate("b", later),
            Authentication::Expired("bob".to_string())
        );
        let Authentication::Granted(bob) = access.authenticate("b", now) else {
            panic!("bob is let in before his expiry");
        };
        assert!(access.reads_metrics(&bob));
        assert_eq!(access.still_allowed(&bob, now), Ok(()));
        assert_eq!(access.still_allowed(&bob, later), Err(Ending::UserExpired));
    }

    #[test]
    fn a_session_ends_when_its_user_goes_changes_or_gets_another_token() {
        let access = Access::new(
            Some(&file(&[("alice", Role::Reader, "a", None)])),
            None,
            false,
        );
        let now = Utc::now();
        let Authentication::Granted(alice) = access.authenticate("a", now) else {
            panic!("alice is let in");
        };
        let replace = |users: &[(&str, Role, &str, Option<&str>)]| {
            if let Mode::File { table, .. } = &access.mode {
                *table.write().expect("not poisoned") = Arc::new(file(users).table);
            }
        };
        replace(&[
            ("alice", Role::Reader, "a", None),
            ("bob", Role::Viewer, "b", None),
        ]);
        assert_eq!(access.still_allowed(&alice, now), Ok(()));
        replace(&[("alice", Role::Viewer, "a", None)]);
        assert_eq!(access.still_allowed(&alice, now), Err(Ending::UserChanged));
        replace(&[("alice", Role::Reader, "new", None)]);
        assert_eq!(access.still_allowed(&alice, now), Err(Ending::UserRemoved));
        replace(&[("bob", Role::Viewer, "b", None)]);
        assert_eq!(access.still_allowed(&alice, now), Err(Ending::UserRemoved));
    }

    #[test]
    fn the_token_user_is_a_reader_who_reads_metrics_and_open_servers_let_anyone_in() {
        let access = Access::new(None, Some("secret"), false);
        let Authentication::Granted(user) = access.authenticate("secret", Utc::now()) else {
            panic!("the token lets in");
        };
        assert_eq!((user.label(), user.role), (TOKEN_USER, Role::Reader));
        assert!(access.reads_metrics(&user));
        assert_eq!(
            access.authenticate("secrets", Utc::now()),
            Authentication::Wrong
        );
        let open = Access::new(None, None, false);
        assert!(!open.required());
        assert_eq!(
            open.authenticate("", Utc::now()),
            Authentication::Granted(Identity::anyone())
        );
    }

    #[test]
    fn a_server_with_sign_on_alone_takes_no_token_and_keeps_signed_on_users() {
        let access = Access::new(None, None, true);
        assert!(access.required(), "never open");
        assert_eq!(access.authenticate("", Utc::now()), Authentication::Wrong);
        let rita = Identity::signed_on("rita".into(), Role::Viewer);
        assert!(rita.is_signed_on());
        assert_eq!(access.still_allowed(&rita, Utc::now()), Ok(()));
        // Beside a users file that does not name them, they stay signed in.
        let beside = Access::new(
            Some(&file(&[("alice", Role::Reader, "a", None)])),
            None,
            true,
        );
        assert_eq!(beside.still_allowed(&rita, Utc::now()), Ok(()));
    }
}
