//! Where the keyword index lives: tantivy's memory-mapped directory, except
//! that the document stores are read with plain positioned reads.
//!
//! A search reads one compressed block of the store (a few KB) per hit it
//! shows, scattered over the whole file. Through a memory map each such
//! read faults in and maps its neighbours as well (the kernel maps up to
//! 64 KB of cached pages around every fault whatever the advice), so a
//! few thousand searches leave almost every store resident in the server:
//! 960 MB of its 1.8 GB at a million papers. Read with `pread`, the blocks
//! stay in the kernel's page cache, shared and reclaimable, and the server
//! holds only the block it is decoding. Postings, term dictionaries and
//! fast fields stay mapped: they are read in long runs, where the map is
//! faster. Written here because tantivy exports no such directory (its
//! `WrapFile` reads the same way but is internal and refuses empty reads).

use std::fs::File;
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::directory::error::{
    DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError,
};
use tantivy::directory::{
    Advice, Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback,
    WatchHandle, WritePtr,
};
use tantivy::HasLen;

/// Files read with positioned reads rather than through the map.
const READ_NOT_MAPPED: &[&str] = &["store"];

#[derive(Clone, Debug)]
pub(super) struct IndexDir {
    root: PathBuf,
    mapped: MmapDirectory,
}

impl IndexDir {
    pub(super) fn open(root: &Path) -> Result<Self, OpenDirectoryError> {
        Ok(IndexDir {
            root: root.to_path_buf(),
            // Random access: no read-ahead around the mapped pages either.
            mapped: MmapDirectory::open_with_madvice(root, Advice::Random)?,
        })
    }
}

impl Directory for IndexDir {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        let by_read = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| READ_NOT_MAPPED.contains(&e));
        if !by_read {
            return self.mapped.get_file_handle(path);
        }
        let full = self.root.join(path);
        let file = File::open(&full).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => OpenReadError::FileDoesNotExist(path.to_path_buf()),
            _ => OpenReadError::wrap_io_error(e, full.clone()),
        })?;
        let len = file
            .metadata()
            .map_err(|e| OpenReadError::wrap_io_error(e, full.clone()))?
            .len() as usize;
        Ok(Arc::new(ReadFile {
            file,
            len,
            path: full,
        }))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.mapped.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.mapped.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.mapped.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.mapped.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.mapped.atomic_write(path, data)
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.mapped.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.mapped.acquire_lock(lock)
    }

    fn watch(&self, callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.mapped.watch(callback)
    }
}

/// A file read a range at a time (index files never change once written).
#[derive(Debug)]
struct ReadFile {
    file: File,
    len: usize,
    path: PathBuf,
}

impl HasLen for ReadFile {
    fn len(&self) -> usize {
        self.len
    }
}

impl FileHandle for ReadFile {
    fn read_bytes(&self, range: Range<usize>) -> io::Result<OwnedBytes> {
        if range.start > range.end || range.end > self.len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{}: bytes {}..{} asked of a file of {}",
                    self.path.display(),
                    range.start,
                    range.end,
                    self.len
                ),
            ));
        }
        let mut buf = vec![0u8; range.len()];
        self.file.read_exact_at(&mut buf, range.start as u64)?;
        Ok(OwnedBytes::new(buf))
    }
}
