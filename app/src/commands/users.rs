//! `hounsfield users add|list|remove`: the users file `--serve --users` reads. Each change
//! reads and writes the whole file under an exclusive lock (a `.NAME.lock` file beside it),
//! so two changes at once never lose one another, and writes it anew (a temporary file
//! renamed over it: mode 0600, or the mode, owner and group of the file it replaces); a
//! running server picks it up within a second or so.

use std::path::Path;

use anyhow::Context;
use hounsfield_server::generate_token;
use hounsfield_server::users::{Expiry, Role, User, UserTable};

/// The users of `file`, or none when it does not exist yet.
fn load_or_empty(file: &Path) -> anyhow::Result<UserTable> {
    if file.exists() {
        Ok(UserTable::load(file)?)
    } else {
        Ok(UserTable::default())
    }
}

/// Changes the users of `file` with `change` and saves them, holding the file's lock from
/// the read to the write.
fn edit(
    file: &Path,
    change: impl FnOnce(&mut UserTable) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let name = file.file_name().map_or_else(
        || "users".into(),
        |name| name.to_string_lossy().into_owned(),
    );
    let lock_path = file.with_file_name(format!(".{name}.lock"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let lock = options
        .open(&lock_path)
        .with_context(|| format!("opening the lock {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    let mut table = load_or_empty(file)?;
    change(&mut table)?;
    table.save(file)?;
    // The lock goes with the file handle.
    drop(lock);
    Ok(())
}

/// Adds a user with a new token and prints the token, once, alone on the last line.
pub fn add(name: &str, role: Role, expires: Option<Expiry>, file: &Path) -> anyhow::Result<()> {
    if let Some(expiry) = expires
        && expiry.is_past()
    {
        anyhow::bail!("--expires {expiry} is already past");
    }
    let token = generate_token().context("generating a token")?;
    edit(file, |table| {
        table
            .add(User::with_token(name, role, &token, expires))
            .map_err(|problem| anyhow::anyhow!("{}: {problem}", file.display()))
    })?;
    let until = expires.map_or(String::new(), |expiry| format!(", until {expiry}"));
    println!("added {name} ({role}{until}) to {}", file.display());
    println!("{name}'s token follows; it is shown this once (the file keeps only its SHA-256):");
    println!("{token}");
    Ok(())
}

/// Prints the users: name, role, expiry and whether it has passed.
pub fn list(file: &Path) -> anyhow::Result<()> {
    let table = UserTable::load(file)?;
    if table.users().is_empty() {
        println!("no users in {}", file.display());
        return Ok(());
    }
    let width = table
        .users()
        .iter()
        .map(|user| user.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    println!("{:width$}  {:6}  {:25}  expired", "name", "role", "expires");
    for user in table.users() {
        let expires = user
            .expires
            .map_or_else(|| "never".to_string(), |expiry| expiry.to_string());
        let expired = if user.expired() { "yes" } else { "no" };
        println!(
            "{:width$}  {:6}  {expires:25}  {expired}",
            user.name,
            user.role.name()
        );
    }
    Ok(())
}

/// Removes a user.
pub fn remove(name: &str, file: &Path) -> anyhow::Result<()> {
    if !file.exists() {
        anyhow::bail!("{}: no such users file", file.display());
    }
    edit(file, |table| {
        if table.remove(name) {
            Ok(())
        } else {
            anyhow::bail!("{}: no user named {name:?}", file.display())
        }
    })?;
    println!(
        "removed {name} from {}; a server reading it ends their sessions within seconds",
        file.display()
    );
    Ok(())
}
