// Package writeback is the write path of one file open for writing: where
// its written content lives until it reaches OSS, and how it gets there.
// It knows nothing of FUSE: package fs holds one File per file open for
// writing and maps its errors to errno. It reaches OSS through the narrow
// Store interface (put a body or a stream, read a range, copy, delete) and
// the file through Host (its current key and metadata, and what to record
// after an upload), so it is tested against a fake Store and against the
// local server (ossclient/osstest) without a mount.
//
// # States
//
// The content of a File is in exactly one of these places:
//
//	Empty      size 0, nothing written since open/create/truncate(0)
//	Streaming  in a sequential upload in flight (stream: an io.Pipe read
//	           by Store.Put, sent as a multipart upload with parts in
//	           parallel); the first HeadLimit bytes also kept in memory
//	Uploaded   a completed stream: the bytes are the object in OSS, there
//	           is no local copy (file nil, size > 0)
//	Staged     an unlinked temp file in Options.TempDir (file)
//	Lost       the data did not reach OSS and no copy is left (lost)
//
// and dirty says whether the object differs from it. The transitions:
//
//	          write at 0                      flush (completes the upload)
//	Empty ────────────────────► Streaming ───────────────────────────► Uploaded
//	  │                          │  │  │                                  │
//	  │ write elsewhere, read,   │  │  │ write elsewhere, read,           │ write, read,
//	  │ truncate > 0             │  │  │ truncate > 0 (materialize):      │ flush of new
//	  │                          │  │  │  ├ head kept: from the head,     │ attributes
//	  ▼                          │  │  │  │   upload aborted              │ (read back)
//	Staged ◄─────────────────────┼──┼──┘  └ past the head: complete the   │
//	  ▲   ▲                      │  │        upload, read it back ────────┤
//	  │   └──────────────────────┼──┼─────────────────────────────────────┘
//	  │   upload failed, head    │  │ upload failed past the head
//	  └──────────────────────────┘  ▼
//	                               Lost
//
//	truncate(0) (O_TRUNC open, ftruncate 0): any state → Empty
//	flush of Staged: one Put of the temp file; it stays Staged, clean
//	Unlink: Streaming or Uploaded → Staged first (the descriptors still
//	open keep their data), then nothing more is uploaded
//
// Flush (close, fsync) and the last release upload what is dirty and
// return the error, never nil for data that did not reach OSS.
//
// # Locking
//
// mu guards the File's fields and is held for local temp-file I/O, never
// for a network call, and never while calling the Host. upMu serializes
// the uploads of one file (held across Put: only flush, fsync, release,
// unlink and materialize of that file wait on it). stream.wmu is held by
// the one writer feeding the stream's pipe (taken with TryLock under mu,
// so never waited for there). Lock order: upMu, then stream.wmu, then the
// Host's locks (fs's node.mu), then mu: a caller may hold its node lock
// across Ref, Unref, Refs, Size, Dirty and AttrsChanged, and must not
// across the others.
package writeback
