//! The key file: the master key in hex, in the data directory, readable by its owner only.
//!
//! Created on first run so that encryption needs no setup. Losing it makes every stored plan
//! unreadable, so it is written durably, and an existing file that other users could read (or
//! replace) is refused rather than used: that key would no longer be a secret.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use super::{CryptoError, MasterKey};

/// The key in `path`, or a new one written there if the file does not exist.
pub(super) fn load_or_create(path: &Path) -> Result<MasterKey, CryptoError> {
    match File::open(path) {
        Ok(file) => read(path, file),
        Err(error) if error.kind() == ErrorKind::NotFound => create(path),
        Err(error) => Err(trouble(path, error)),
    }
}

fn trouble(path: &Path, problem: impl ToString) -> CryptoError {
    CryptoError::KeyFile {
        path: path.to_path_buf(),
        problem: problem.to_string(),
    }
}

fn read(path: &Path, mut file: File) -> Result<MasterKey, CryptoError> {
    ensure_private(path, &file)?;
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| trouble(path, e))?;
    MasterKey::parse(&text).map_err(|e| trouble(path, e))
}

fn create(path: &Path) -> Result<MasterKey, CryptoError> {
    let key = write_new(path, MasterKey::generate()?)?;
    tracing::info!(
        key = %key.id(),
        path = %path.display(),
        "created a new master key for personal data: back this file up, stored plans cannot be read without it"
    );
    Ok(key)
}

/// Writes `key` to a new private file at `path`, durably; if the file appeared meanwhile (another
/// process, or an earlier run), the key it holds. The key is written and synced under a
/// temporary name first, then linked to `path` (which fails if `path` exists): `path` never
/// holds half a key, whatever moment a crash comes.
fn write_new(path: &Path, key: MasterKey) -> Result<MasterKey, CryptoError> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent {
        std::fs::create_dir_all(parent).map_err(|e| trouble(path, e))?;
    }
    let mut temporary = path.as_os_str().to_os_string();
    temporary.push(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    let temporary = PathBuf::from(temporary);
    let written = private_options()
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(format!("{}\n", key.to_hex()).as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::hard_link(&temporary, path));
    // The temporary name goes whatever happened; a crash before this leaves only a stray
    // `.tmp` file, never a partial key under the real name.
    let _ = std::fs::remove_file(&temporary);
    match written {
        Ok(()) => {}
        Err(error) if error.kind() == ErrorKind::AlreadyExists => {
            return read(path, File::open(path).map_err(|e| trouble(path, e))?);
        }
        Err(error) => return Err(trouble(path, error)),
    }
    // The new name must survive a crash too, or what is sealed next would outlive its key.
    sync_dir(path)?;
    Ok(key)
}

fn sync_dir(path: &Path) -> Result<(), CryptoError> {
    #[cfg(unix)]
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| trouble(path, e))?;
    }
    Ok(())
}

/// Where a rotation under way keeps the key that will replace the one at `path`.
fn next_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".next");
    PathBuf::from(name)
}

/// The key a rotation left beside `path`, if one is under way.
pub(super) fn load_next(path: &Path) -> Result<Option<MasterKey>, CryptoError> {
    let next = next_path(path);
    match File::open(&next) {
        Ok(file) => read(&next, file).map(Some),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
        Err(error) => Err(trouble(&next, error)),
    }
}

/// Keeps `key` beside `path` as the next key; a rotation interrupted before left one there
/// already, which is the key its envelopes may be sealed with: that one is kept and returned.
pub(super) fn stage_next(path: &Path, key: MasterKey) -> Result<MasterKey, CryptoError> {
    write_new(&next_path(path), key)
}

/// Ends a rotation: `retired` keeps the old key (for backups made before), then the next key
/// takes the old one's place in one rename. Until that rename the file still holds the old key
/// and the next one waits beside it, so a crash at any point leaves both at hand.
pub(super) fn promote_next(path: &Path, old: &MasterKey) -> Result<PathBuf, CryptoError> {
    let mut retired = path.as_os_str().to_os_string();
    retired.push(format!(".{}.retired", old.id()));
    let retired = PathBuf::from(retired);
    write_new(&retired, old.clone())?;
    std::fs::rename(next_path(path), path).map_err(|e| trouble(path, e))?;
    sync_dir(path)?;
    Ok(retired)
}

/// Creates the file, failing if it exists, with no permissions for group or others.
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

#[cfg(unix)]
fn ensure_private(path: &Path, file: &File) -> Result<(), CryptoError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file
        .metadata()
        .map_err(|e| trouble(path, e))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 == 0 {
        Ok(())
    } else {
        Err(CryptoError::ExposedKeyFile {
            path: path.to_path_buf(),
            mode,
        })
    }
}

/// Other systems keep their own access control; there are no mode bits to check.
#[cfg(not(unix))]
fn ensure_private(_path: &Path, _file: &File) -> Result<(), CryptoError> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_first_run_creates_a_private_key_file_and_later_runs_reuse_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("master.key");
        let created = load_or_create(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("{}\n", created.to_hex()));
        assert_eq!(load_or_create(&path).unwrap(), created);
    }

    #[test]
    fn a_key_file_others_can_read_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = load_or_create(&path).unwrap_err();
        assert!(
            matches!(error, CryptoError::ExposedKeyFile { mode: 0o644, .. }),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains(&format!("chmod 600 {}", path.display())),
            "{message}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        load_or_create(&path).unwrap();
    }

    #[test]
    fn a_staged_key_is_kept_until_it_replaces_the_old_one_and_the_old_one_is_retired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let old = load_or_create(&path).unwrap();
        assert_eq!(load_next(&path).unwrap(), None);

        let next = stage_next(&path, MasterKey::generate().unwrap()).unwrap();
        assert_eq!(mode(&next_path(&path)), 0o600);
        assert_eq!(load_next(&path).unwrap(), Some(next.clone()));
        // Interrupted, then run again: the staged key stays the next one.
        let again = stage_next(&path, MasterKey::generate().unwrap()).unwrap();
        assert_eq!(again, next);
        assert_eq!(
            load_or_create(&path).unwrap(),
            old,
            "not in use before the end"
        );

        let retired = promote_next(&path, &old).unwrap();
        assert_eq!(load_or_create(&path).unwrap(), next);
        assert_eq!(load_next(&path).unwrap(), None);
        assert_eq!(load_or_create(&retired).unwrap(), old);
        assert_eq!(mode(&retired), 0o600);
        assert!(
            retired
                .to_str()
                .unwrap()
                .ends_with(&format!(".{}.retired", old.id()))
        );
    }

    #[test]
    fn a_key_file_that_holds_no_key_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        std::fs::write(&path, "not a key\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let message = load_or_create(&path).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!("key file {}", path.display()))
                && message.contains("64 hex digits"),
            "{message}"
        );
    }
}
