// Package datacache keeps object bytes on local disk, so that reading a
// file again costs no GetObject.
//
// # Consistency
//
// An entry is the bytes of one version of one key: it is named by the key
// and the ETag of the GET answers its bytes came from, and holds the
// version's size. Bytes are served only to a GET that is If-Match that
// very ETag: a read handle pinned to the version its open saw (package fs,
// close-to-open). The open itself learns the version from OSS — a GET
// If-None-Match the cached ETag, whose 304 says the entry is current — so
// the cache never decides on its own that a version is current, and never
// serves bytes of one version to a reader of another. Bytes of a GET are
// cached under the ETag that GET's answer carried, so one entry never mixes
// versions. Only the newest version seen of a key is kept: a GET showing
// another ETag drops the older entry.
//
// # Storage
//
// Entries are sparse files in a directory of their own under Options.Dir
// (ossfs-cache-XXXX, created at Open, removed at Close; a directory left by
// a mount that died is removed by the next Open on the same Dir, which
// knows it by its lock file being unlocked). Bytes are cached in blocks of
// BlockSize at block-aligned offsets: a GET through the cache is widened to
// whole blocks, and each whole block its body delivers is written, so a
// random reader caches only the blocks it read. Each cached block's CRC-32C
// is kept in memory and checked on every read of it.
//
// Blocks are evicted least recently used first (holes punched in the file)
// once the cached bytes would pass Options.Size. The index lives in memory
// only: the cache starts empty at each mount.
//
// # Faults
//
// The cache never fails a read. A block that does not match its checksum,
// or cannot be read, drops its entry and the read goes on with a GET from
// where it was; a block that cannot be written (a full disk) is not cached.
// Each such episode logs one warning, not one per block: the next one is
// logged only after the cache has worked again.
package datacache
