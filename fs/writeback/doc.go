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
//	Streaming  in a sequential upload in flight (stream: a pipe,
//	           fillpipe.go, read by Store.Put, sent as a multipart upload
//	           with parts in parallel); the first HeadLimit bytes also
//	           kept in memory
//	Uploaded   a completed stream: the bytes are the object in OSS, there
//	           is no local copy (file nil, size > 0)
//	Staged     an unlinked temp file in Options.TempDir (file); for an
//	           existing object of at least Options.EditMin bytes opened
//	           without O_TRUNC, an edit: the temp file is sparse and
//	           holds only the bytes written or read since, every other
//	           byte is the object's version at open (edit.go)
//	Lost       the data did not reach OSS and no copy is left (lost)
//
// and dirty says whether the object differs from it.
//
//	         write at 0               flush
//	Empty ─────────────► Streaming ─────────────────► Uploaded ◄──┐
//	  │                   │  │  │  materialize past the    │       │
//	  │ other write,      │  │  └─ head: complete the ─────┘       │ read-back
//	  │ truncate > 0      │  │     upload                  │       │ failed
//	  │                   │  │                             ▼       │
//	  │                   │  │                read back (write, ───┘
//	  │                   │  │                read, unlink, flush
//	  ▼                   │  │                of new attributes)
//	Staged ◄──────────────┼──┴─────────────────────────────┘
//	         materialize within the head:
//	         from memory (upload aborted)
//	                      │
//	                      │ upload failed past the head
//	                      ▼
//	                     Lost
//
// In words, state by state (every state: truncate(0) → Empty):
//
//	Empty      write at 0 → Streaming; other write, truncate > 0 → Staged
//	           (an empty temp file); flush → one empty Put if dirty
//	Streaming  append → Streaming; flush by the opener, fsync, last
//	           release → Uploaded (upload completed); flush from another
//	           process (FlushInherited) → Streaming; other write, read,
//	           truncate > 0, unlink → materialize: ≤ HeadLimit written →
//	           Staged from memory (upload aborted), else complete the
//	           upload → Uploaded → read back → Staged; upload failed: ≤
//	           HeadLimit → Staged from memory (retried at the flush), else
//	           → Lost
//	Uploaded   write, read, truncate > 0, unlink, a flush with new
//	           attributes → read back → Staged. A read-back that fails
//	           (or whose caller is interrupted) leaves it Uploaded: the
//	           object is complete, the next call reads back again.
//	Staged     write, read, truncate → Staged; flush → one Put, clean
//	Lost       every write, flush and fsync fails with the upload's error
//
// An edit (Staged with edit set) reads the bytes it lacks from its base
// version with ReadIf (If-Match its ETag: another version fails the read
// rather than mix two), in 1 MiB-aligned ranges kept in the temp file. Its
// flush is one multipart upload (ossclient.Editor.Edit) of the changed
// ranges, the rest UploadPartCopy'd from the base If-Match its ETag; the
// new version becomes the base. Unlink and rename (Localize) first read
// the rest of the base into the temp file, which then is a plain staged
// copy. A failed edit upload is aborted: the object stays as it was.
//
// Work that belongs to the whole file (materialize, uploads) never runs on
// one request's context: an interrupted caller stops waiting (its ctx's
// error), the work goes on, and an interrupt never becomes a state.
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
