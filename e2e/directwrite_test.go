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
// the bytes. A reader open meanwhile sees what was written (the kernel
// drops its cached pages of the range). An O_RDWR descriptor still goes
// through the page cache.
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
	// A reader's cached pages of a range written through a write-only
	// descriptor are dropped: the reader sees the new bytes, as it did
	// when the write went through the page cache.
	e.sh(`printf old-old-old > shared`)
	r, err := os.Open(e.p("shared"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	readAt := func(when, want string) {
		t.Helper()
		buf := make([]byte, 64)
		n, _ := r.ReadAt(buf, 0)
		if string(buf[:n]) != want {
			t.Errorf("reader %s: %q, want %q", when, buf[:n], want)
		}
	}
	readAt("before the write", "old-old-old")
	w, err := os.OpenFile(e.p("shared"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAt([]byte("NEW"), 0); err != nil {
		t.Fatal(err)
	}
	readAt("after the write", "NEW-old-old")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	readAt("after the writer's close", "NEW-old-old")

	// O_RDWR: the page cache path, so a shared mapping sees the write.
	e.sh(`printf hello > rw`)
	f, err := os.OpenFile(e.p("rw"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("J"), 0); err != nil {
		t.Fatal(err)
	}
	if got := e.sh(`cat rw`); got != "Jello" {
		t.Errorf("after an O_RDWR write: %q, want Jello", got)
	}
}

// TestWriteDropsSetID: an unprivileged write drops the set-user-ID bit,
// and the set-group-ID bit of a group-executable file, as on a local file
// system, through a write-only descriptor (the kernel leaves it to ossfs
// there, fs/directwrite.go) and an O_RDWR one; the modes are stored (a
// remount shows them). Root's writes keep the bits, and so does a
// set-group-ID file without group execute.
func TestWriteDropsSetID(t *testing.T) {
	needRoot(t, "a write by another user")
	cfg := config{fs: func(o *ossfs.Options) { o.AllowOther = true }}
	e := newEnv(t, cfg)
	if err := os.Chmod(filepath.Dir(e.mnt), 0o755); err != nil {
		t.Fatal(err)
	}
	e.sh(`for f in wo rw gx nogx root; do echo a > $f; done
		chmod 4777 wo rw root && chmod 2777 gx && chmod 2766 nogx`)
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
	const want = "wo 777\nrw 777\ngx 777\nnogx 2766\nroot 4777\n"
	const script = `stat -c '%n %a' wo rw gx nogx root`
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
