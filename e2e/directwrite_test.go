package e2e

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ossfs "github.com/ossfs/ossfs/fs"
)

// requests returns how many requests of opcode op go-fuse's trace
// (Options.Debug) shows the kernel sent.
func requests(trace string, op string) int {
	n := 0
	for _, line := range strings.Split(trace, "\n") {
		if strings.Contains(line, "rx ") && strings.Contains(line, ": "+op+" ") {
			n++
		}
	}
	return n
}

// TestWriteOnlyBypassesPageCache: a descriptor open only for writing
// writes without the kernel's page cache (fs/directwrite.go): `dd bs=1M` of
// 8 MiB is 8 WRITE requests and no GETXATTR (the page cache path asked for
// security.capability before every write: 8 more), and the file holds
// the bytes. A reader's mapping shows what was written (the kernel drops
// its cached pages of the range). An O_RDWR descriptor still goes through
// the page cache.
func TestWriteOnlyBypassesPageCache(t *testing.T) {
	var trace lockedBuffer
	e := newEnv(t, config{fs: func(o *ossfs.Options) {
		o.Debug = true
		o.Logger = slog.New(slog.NewTextHandler(&trace, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}})
	e.sh(`dd if=/dev/urandom of=/tmp/dw.$$ bs=1M count=8 status=none && dd if=/tmp/dw.$$ of=big bs=1M status=none && cmp /tmp/dw.$$ big && rm /tmp/dw.$$`)
	if w, x := requests(trace.String(), "WRITE"), requests(trace.String(), "GETXATTR"); w != 8 || x != 0 {
		t.Errorf("dd of 8 MiB in 1 MiB writes: %d WRITE and %d GETXATTR requests, want 8 and 0", w, x)
	}
	// A reader's mapping of a range written through a write-only
	// descriptor shows the new bytes: the kernel drops its cached pages of
	// the range (a mapping is served from them without asking ossfs). The
	// mapping lives in a child process (startMapper): a fault on this
	// process's own mount would stall its garbage collector, and with it
	// the mount.
	old, updated := []byte("old-old-old"), []byte("NEW-old-old")
	e.sh(`printf old-old-old > shared`)
	m := startMapper(t, e.p("shared"))
	if got := m.read(0, len(old), old, updated); got != "of v1" {
		t.Fatalf("mapping before the write: %s, want of v1", got)
	}
	w, err := os.OpenFile(e.p("shared"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAt([]byte("NEW"), 0); err != nil {
		t.Fatal(err)
	}
	if got := m.read(0, len(updated), old, updated); got != "of v2" {
		t.Errorf("mapping after the write: %s, want of v2 (NEW-old-old)", got)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	m.stop()

	// O_RDWR keeps the page cache path: the kernel asks for
	// security.capability before the write, as before.
	e.sh(`printf hello > rw`)
	before := requests(trace.String(), "GETXATTR")
	f, err := os.OpenFile(e.p("rw"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("J"), 0); err != nil {
		t.Fatal(err)
	}
	if n := requests(trace.String(), "GETXATTR") - before; n != 1 {
		t.Errorf("an O_RDWR write made %d GETXATTR requests, want 1 (the page cache path)", n)
	}
	if got := e.sh(`cat rw`); got != "Jello" {
		t.Errorf("after an O_RDWR write: %q, want Jello", got)
	}
}

// TestWriteDropsSetID: an unprivileged write drops the set-user-ID bit,
// and the set-group-ID bit of a group-executable file, through a
// write-only descriptor (the kernel leaves it to ossfs there,
// fs/directwrite.go) and an O_RDWR one, into an existing file (staged)
// and into the user's own file rewritten from the start (streamed); the
// modes are stored (a remount shows them). Root's writes keep the bits,
// and so does a set-group-ID file without group execute (as the kernel's
// FUSE code did).
func TestWriteDropsSetID(t *testing.T) {
	needRoot(t, "a write by another user")
	cfg := config{fs: func(o *ossfs.Options) { o.AllowOther = true }}
	e := newEnv(t, cfg)
	if err := os.Chmod(filepath.Dir(e.mnt), 0o755); err != nil {
		t.Fatal(err)
	}
	e.sh(`for f in wo rw gx nogx root; do echo a > $f; done
		chmod 4777 wo rw root && chmod 2777 gx && chmod 2766 nogx && mkdir pub && chmod 1777 pub`)
	if out, err := asUser("sh", "-c", `echo a > "$1" && chmod 4755 "$1" && head -c 300000 /dev/zero > "$1"`, "sh", e.p("pub/own")); err != nil {
		t.Fatalf("uid 65534 rewriting its own set-user-ID file: %v\n%s", err, out)
	}
	for _, c := range []struct{ name, script string }{
		{"wo", `echo b >> "$1"`},             // O_WRONLY|O_APPEND
		{"rw", `exec 3<>"$1"; printf b >&3`}, // O_RDWR
		{"gx", `echo b >> "$1"`},
		{"nogx", `echo b >> "$1"`},
	} {
		if out, err := asUser("sh", "-c", c.script, "sh", e.p(c.name)); err != nil {
			t.Fatalf("uid 65534 writing %s: %v\n%s", c.name, err, out)
		}
	}
	e.sh(`echo b >> root`)
	const want = "wo 777\nrw 777\ngx 777\nnogx 2766\nroot 4777\npub/own 755 300000\n"
	const script = `stat -c '%n %a' wo rw gx nogx root && stat -c '%n %a %s' pub/own`
	if got := e.sh(script); got != want {
		t.Errorf("modes after the writes:\n%s\nwant:\n%s", got, want)
	}
	e2 := e.remount(cfg)
	if got := e2.sh(script); got != want {
		t.Errorf("modes after a remount:\n%s\nwant:\n%s", got, want)
	}
	if got := e2.sh(`cat wo`); !strings.HasPrefix(got, "a\nb") {
		t.Errorf("wo holds %q", got)
	}
}
