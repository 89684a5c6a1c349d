//! Rotating the master key: every envelope re-sealed under a new key, then the new key made the
//! one in use.
//!
//! With a key file, the new key is first kept beside it (`master.key.next`, mode 0600, synced),
//! and a keyring made from the key file opens envelopes under either key: a rotation interrupted
//! at any point loses nothing, and running it again finishes it with the same new key. Only
//! after the store is re-sealed does the new key replace the old one in the file; the old key is
//! kept as `master.key.<id>.retired` for backups made before, to delete when none needs it.
//! With `ITINERA_MASTER_KEY`, the operator gives the new key (`ITINERA_NEW_MASTER_KEY`) and
//! sets it in place of the old one afterwards.

use std::path::PathBuf;

use super::{CryptoError, KeyId, KeySource, Keyring, MasterKey, key_file};

/// A rotation begun: the old key and the new one.
pub struct Rotation {
    source: KeySource,
    old: MasterKey,
    new: MasterKey,
}

/// What a finished rotation did.
#[derive(Debug)]
pub struct Rotated {
    pub old: KeyId,
    pub new: KeyId,
    /// Where the old key was kept (key files only).
    pub retired: Option<PathBuf>,
}

impl Rotation {
    /// Begins rotating the key of `source`: to `given` for `ITINERA_MASTER_KEY` (required), to
    /// a fresh key for a key file (or to the one an interrupted rotation staged).
    pub fn begin(source: &KeySource, given: Option<MasterKey>) -> Result<Rotation, CryptoError> {
        let (old, new) = match source {
            KeySource::Given(old) => (old.clone(), given.ok_or(CryptoError::NewKeyNeeded)?),
            KeySource::File(path) => {
                if given.is_some() {
                    return Err(CryptoError::NewKeyForKeyFile);
                }
                let old = key_file::load_or_create(path)?;
                (old, key_file::stage_next(path, MasterKey::generate()?)?)
            }
        };
        if old == new {
            return Err(CryptoError::SameKey);
        }
        Ok(Rotation {
            source: source.clone(),
            old,
            new,
        })
    }

    /// Seals with the new key and opens what the old one sealed.
    pub fn keyring(&self) -> Keyring {
        Keyring::new(&self.new).also_opening(&self.old)
    }

    /// Makes the new key the one in use: call only once everything is re-sealed under it.
    pub fn finish(self) -> Result<Rotated, CryptoError> {
        let retired = match &self.source {
            KeySource::File(path) => Some(key_file::promote_next(path, &self.old)?),
            KeySource::Given(_) => None,
        };
        Ok(Rotated {
            old: self.old.id(),
            new: self.new.id(),
            retired,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_key_rotates_only_to_another_given_key() {
        let old = MasterKey::generate().unwrap();
        let source = KeySource::Given(old.clone());
        assert!(matches!(
            Rotation::begin(&source, None),
            Err(CryptoError::NewKeyNeeded)
        ));
        assert!(matches!(
            Rotation::begin(&source, Some(old.clone())),
            Err(CryptoError::SameKey)
        ));
        let new = MasterKey::generate().unwrap();
        let rotation = Rotation::begin(&source, Some(new.clone())).unwrap();
        let sealed_before = Keyring::new(&old).seal("ctx", b"secret").unwrap();
        let ring = rotation.keyring();
        assert_eq!(ring.open("ctx", &sealed_before).unwrap(), b"secret");
        assert_eq!(ring.current(), &new.id());
        let rotated = rotation.finish().unwrap();
        assert_eq!((rotated.old, rotated.new), (old.id(), new.id()));
        assert!(rotated.retired.is_none());
    }

    #[test]
    fn a_key_file_makes_its_own_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let source = KeySource::File(dir.path().join("master.key"));
        let given = MasterKey::generate().unwrap();
        assert!(matches!(
            Rotation::begin(&source, Some(given)),
            Err(CryptoError::NewKeyForKeyFile)
        ));
        let rotation = Rotation::begin(&source, None).unwrap();
        let before = source.keyring().unwrap();
        let sealed = rotation.keyring().seal("ctx", b"secret").unwrap();
        assert_eq!(
            before.open("ctx", &sealed).unwrap(),
            b"secret",
            "a server started mid-rotation opens what the new key sealed"
        );
        let rotated = rotation.finish().unwrap();
        assert_eq!(source.keyring().unwrap().current(), &rotated.new);
    }
}
