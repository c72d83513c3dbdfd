package e2e

import (
	"bytes"
	"crypto/rand"
	"os"
	"syscall"
	"testing"
)

// TestUnlinkedOpenFileKeepsData: a file unlinked while open keeps its
// content for every descriptor still open until the last one closes, as
// on a local disk, and never reappears in OSS. Found by the model test: a
// reader of a file unlinked while written read it as empty once the writer
// closed (ESTALE when its directory had been renamed first).
func TestUnlinkedOpenFileKeepsData(t *testing.T) {
	e := newEnv(t, config{})
	data := make([]byte, 1<<20) // past the first chunk an open fetches
	rand.Read(data)
	e.sh(`mkdir d`)

	// check reads data through rd from several offsets, closes it, and
	// checks that none of keys is in OSS.
	check := func(what string, rd *os.File, want []byte, keys ...string) {
		t.Helper()
		for _, off := range []int64{0, 83, int64(len(want)) - 5000, int64(len(want)) * 7 / 8} {
			if off < 0 || off >= int64(len(want)) {
				continue
			}
			got := make([]byte, min(4000, int64(len(want))-off))
			if n, err := rd.ReadAt(got, off); err != nil || !bytes.Equal(got[:n], want[off:off+int64(n)]) || n != len(got) {
				t.Errorf("%s: read at %d: %d bytes, %v; want %d bytes of the file", what, off, n, err, len(got))
			}
		}
		if err := rd.Close(); err != nil {
			t.Errorf("%s: close of the reader: %v", what, err)
		}
		for _, k := range keys {
			if e.exists(k) {
				t.Errorf("%s: %s is in OSS after the last close", what, k)
			}
		}
	}
	// writeUnlink creates path, opens a reader on it, writes data through
	// the writer, runs between, unlinks path and closes the writer.
	writeUnlink := func(path string, between func()) *os.File {
		t.Helper()
		wr, err := os.OpenFile(e.p(path), os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := os.Open(e.p(path))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wr.Write(data[:3209]); err != nil {
			t.Fatal(err)
		}
		if between != nil {
			between()
			path = "d2/a"
		}
		if err := os.Remove(e.p(path)); err != nil {
			t.Fatal(err)
		}
		if err := wr.Close(); err != nil {
			t.Fatal(err)
		}
		return rd
	}
	check("written, unlinked, writer closed", writeUnlink("a", nil), data[:3209], "a")
	rd := writeUnlink("d/a", func() { e.sh(`mv d d2`) })
	var err error
	check("written, directory renamed, unlinked, writer closed", rd, data[:3209], "d/a", "d2/a")

	// Open for reading only: the unlink keeps the content (a download).
	if err := os.WriteFile(e.p("r"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if rd, err = os.Open(e.p("r")); err != nil {
		t.Fatal(err)
	}
	e.sh(`rm r && echo new > r`)
	check("open for reading, unlinked, name reused", rd, data)
	if got := e.mustGet("r"); got != "new\n" {
		t.Errorf("r = %q after the old file's last close, want the new file's", got)
	}

	// Replaced by a rename: the reader keeps the old file.
	if err := os.WriteFile(e.p("v"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if rd, err = os.Open(e.p("v")); err != nil {
		t.Fatal(err)
	}
	e.sh(`echo other > o && mv o v`)
	check("open for reading, replaced by a rename", rd, data)
	if got := e.mustGet("v"); got != "other\n" {
		t.Errorf("v = %q after the old file's last close, want the renamed file's", got)
	}
}

// TestUnlinkLargeOpenFileNotDownloaded: a file open only for reading and
// larger than the mount keeps for its descriptors (64 MiB) is not
// downloaded by its unlink, which would make rm wait for all of it: rm
// deletes it at once, with no GetObject, and the reader's next read that
// needs OSS fails with ESTALE.
func TestUnlinkLargeOpenFileNotDownloaded(t *testing.T) {
	e := newEnv(t, config{})
	data := make([]byte, 65<<20)
	rand.Read(data[:4096])
	e.put("big", string(data))
	rd, err := os.Open(e.p("big"))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	e.srv.ResetCounts()
	if err := os.Remove(e.p("big")); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Count("GetObject"); n != 0 {
		t.Errorf("rm of a 65 MiB file open for reading made %d GetObject, want 0 (no download)", n)
	}
	if e.exists("big") {
		t.Error("big is still in OSS after rm")
	}
	_, err = rd.ReadAt(make([]byte, 4096), 60<<20)
	wantErrno(t, "a read of the unlinked large file past what was fetched", err, syscall.ESTALE)
}
