// Package fs is ossfs's filesystem: a go-fuse v2 node tree over an
// ossclient.Bucket (normally the cache decorator of package cache).
//
// # Layout of the tree
//
// Every node is one of three types embedding gofs.Inode: dirNode (a common
// prefix "d/" and/or a marker object "d/"), fileNode (an object without a
// trailing "/") and linkNode (a native OSS symlink). A node does not store
// its key: key() walks the go-fuse tree, which go-fuse keeps in step with
// renames, so a node moved by rename (or an open file whose directory was
// renamed) always writes to its current key. Key rules and the symlink text
// ↔ OSS target mapping live in the pure package fs/names.
//
// # What is cached where
//
// The fs keeps no OSS state of its own beyond what open files need: lookup,
// getattr, readdir and readlink ask the Bucket every time, and the Bucket's
// decorator answers from its caches (a fresh listing answers child Stat
// and List(d/, Limit 1) probes, GetSymlink answers are cached and
// prefetched). Lookup asks Stat(key, ForLookup) and List(key+"/", Limit 1)
// concurrently, which the decorator answers with one listing page of the
// parent directory that also answers the lookups of the names beside key
// (creating many files costs no request per lookup); a directory wins over
// a file of the same name. A directory
// handle lists once and answers READDIRPLUS lookups from that listing, so
// `ls` and `find -name` cost the listing pages only.
//
// # Attributes: stored, or not cached by the kernel
//
// Every attribute the kernel is given is read from the object's metadata
// (x-oss-meta-mode, uid, gid, mtime, ctime, atime, rdev: node.go), or is
// given with an attribute validity of 0, so that the kernel asks getattr
// before using it for anything (under --allow-other's default_permissions,
// permission checks included). go-fuse gets no default timeouts: every
// answer sets its own (fsys.setEntry, attrTimeout), and one that forgot
// would simply not be cached. A listing entry carries metadata only when
// the Bucket knows that version's (package cache keeps it per ETag and
// Last-Modified); otherwise it shows the defaults, marked unknown, and
// getattr reads the metadata with Stat WithMeta (a HEAD, which the cache
// turns into a parallel prefetch of the whole listed directory). A
// directory's getattr reads its marker's metadata; an implicit directory
// has the defaults. A symlink's owner and times come from its own metadata,
// with the GetSymlink readlink needs anyway. An empty object may be a FIFO,
// socket or device node (its type is in its mode): lookup reads its
// metadata, since the kernel takes the type from the lookup. Under
// --allow-other the kernel also checks ownership (chmod, chown, sticky
// bit) on the uid it holds, without asking again even at validity 0: there
// lookups read the stored owner and READDIRPLUS entries with unknown
// metadata carry no attributes (fsys.ownersChecked).
//
// Kernel caches are controlled by Options.EntryTimeout, AttrTimeout and
// NegativeTimeout (1s defaults); kernel symlink caching is off, since
// readlink is already free when the Bucket's cache is warm.
//
// # Inode numbers
//
// Lookup returns the inode the tree already holds for a name when it is
// the same kind of object, so an object keeps one inode number while the
// kernel knows it; new inodes take numbers from go-fuse's monotonic
// counter, so a number is never reused for another object.
//
// # Writes
//
// The write path is package fs/writeback: a file open for writing has one
// writeback.File (fileNode.stage), shared by every writable handle of that
// file, whose doc comment draws its states. A new or truncated file
// written sequentially from 0 streams into Bucket.Put, keeping a copy in
// memory only below 8 MiB; anything else falls back to an unlinked temp
// file. flush (every close) and fsync finish the stream or upload the temp
// file and return the error (EIO, not 0, when the data did not reach OSS);
// the last release uploads whatever is still dirty, and Mounted.Unmount /
// Wait wait for those uploads. A created file exists only in this mount
// until its first flush; lookup and readdir show it from the tree
// meanwhile. The fs side (writer.go, handle.go) is glue: the fileNode is
// the File's Host (current key, metadata, what an upload recorded), open
// and release take and drop references, and errors become errno here. A
// handle remembers the process that opened it (caller.go: the thread group
// of the FUSE caller), so that a flush from another process, a forked
// child closing its inherited copy, does not end a stream
// (writeback.File.FlushInherited). A file unlinked (or renamed over) while
// open keeps its content for every handle until the last release: the
// node counts its handles and, at the unlink, takes a reference of its own
// on the File (created with the object's content when only readers have
// the file open), which every handle then reads from and the last release
// drops (writer.go, keepForOpen).
//
// # Reads
//
// A handle without staging reads with a prefetcher (prefetch.go): parallel
// ranged GETs in growing chunks ahead of a sequential reader, exact ranged
// GETs for random reads, memory bounded per handle and per mount. Reads are
// close-to-open consistent (version.go): an open asks OSS for the current
// version with one GET of the first chunk (If-None-Match the version whose
// pages the kernel may keep), the handle pins that version and every later
// GET is If-Match its ETag; a version replaced under a reader is ESTALE,
// never mixed bytes. The kernel's page cache and size are per inode: a
// newer version found while handles of an older one are open gets a new
// node (retire.go), so mmap and sendfile of the older handles never see
// its bytes or its end. A body cut off by a dropped connection is resumed by
// the Bucket (ossclient.Body).
//
// # Locking
//
// node.mu guards a node's attributes and a fileNode's stage pointer, size
// and uploaded flag; it is never held for a network call. The writeback
// package has its own locks (File.upMu serializes the uploads of one file
// and is held across Put; stream.wmu is held by the one writer feeding a
// stream; File.mu guards its fields). prefetcher.mu guards one handle's
// read-ahead queue and is never held across a GET. Lock order: File.upMu,
// then stream.wmu, then node.mu, then File.mu: the fs holds node.mu only
// across the File's Ref, Unref, Refs, Size, Dirty and AttrsChanged, and
// the File never calls its Host (which takes node.mu) with File.mu held.
//
// # Errors
//
// toErrno (errno.go) is the one mapping from errors to errno; it logs
// unexpected failures with operation, key, OSS code and request id.
//
// docs/semantics.md states what is and is not POSIX, and why.
package fs
