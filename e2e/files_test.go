package e2e

import (
	"bytes"
	"crypto/rand"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestWrites: new files, overwrites in the middle, appends, truncation and a
// multipart-sized file all reach the bucket with the right bytes.
func TestWrites(t *testing.T) {
	e := newEnv(t, config{})
	e.sh(`printf 'hello world' > f
		printf 'HELLO' | dd of=f bs=1 seek=0 conv=notrunc status=none
		printf '!' >> f
		: > empty
		printf 'abcdef' > t && truncate -s 3 t
		printf 'xy' > t2 && truncate -s 5 t2
		touch touched`)
	for key, want := range map[string]string{
		"f": "HELLO world!", "empty": "", "t": "abc", "t2": "xy\x00\x00\x00", "touched": "",
	} {
		if got := e.mustGet(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	// 20 MiB: the client sends it as a parallel multipart upload.
	big := make([]byte, 20<<20+12345)
	rand.Read(big)
	if err := os.WriteFile(e.p("big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := e.get("big")
	if err != nil || !bytes.Equal([]byte(got), big) {
		t.Errorf("big object differs (%d bytes, %v)", len(got), err)
	}
	// Read back through the mount: sequential and random.
	b, err := os.ReadFile(e.p("big"))
	if err != nil || !bytes.Equal(b, big) {
		t.Errorf("read of big through the mount differs: %v", err)
	}
	f, err := os.Open(e.p("big"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, off := range []int64{15 << 20, 3, 20 << 20, 7 << 20} {
		p := make([]byte, 4096)
		n, err := f.ReadAt(p, off)
		if err != nil || !bytes.Equal(p[:n], big[off:off+int64(n)]) || n != 4096 {
			t.Errorf("ReadAt %d: %d %v", off, n, err)
		}
	}
	// Two descriptors on one file see each other's writes before close.
	w, _ := os.OpenFile(e.p("shared"), os.O_CREATE|os.O_RDWR, 0o644)
	w.Write([]byte("one"))
	r, _ := os.Open(e.p("shared"))
	p := make([]byte, 10)
	if n, _ := r.Read(p); string(p[:n]) != "one" {
		t.Errorf("second descriptor read %q before close", p[:n])
	}
	r.Close()
	w.Close()
}

// TestMetadataPersists: mode, owner and mtime are stored under the ossfs
// 1.x names and read back by a fresh mount (its own cache) of the bucket.
func TestMetadataPersists(t *testing.T) {
	e := newEnv(t, config{})
	e.sh(`printf x > f && chmod 750 f && touch -m -d @1500000000 f && mkdir d && chmod 700 d
		printf '#!/bin/sh\necho ran\n' > run.sh && chmod +x run.sh && chown 123:456 f`)
	o, err := e.raw.Stat(e.ctx(), "f")
	if err != nil {
		t.Fatal(err)
	}
	if o.Meta["mode"] != "33256" || o.Meta["mtime"] != "1500000000" || o.Meta["uid"] != "123" || o.Meta["gid"] != "456" {
		t.Errorf("metadata of f = %v", o.Meta)
	}
	if o, err := e.raw.Stat(e.ctx(), "d/"); err != nil || o.Meta["mode"] != "16832" {
		t.Errorf("metadata of marker d/ = %+v %v", o, err)
	}
	// A second mount of the same bucket, fresh caches.
	e2 := newEnv(t, config{srv: e.srv})
	if got := e2.sh(`stat -c '%a %u %g %Y' f && ./run.sh`); got != "750 123 456 1500000000\nran\n" {
		t.Errorf("second mount sees %q", got)
	}
}

// TestNamespace: implicit directories stay when their last entry goes,
// unusable keys are hidden (never EIO), a directory wins over a file of the
// same name, inode numbers are stable.
func TestNamespace(t *testing.T) {
	e := newEnv(t, config{})
	e.put("imp/only", "x")
	for _, k := range []string{"tree/a/b/c", "tree/a/d", "tree/e", "tree/l"} {
		e.put(k, "x") // before anything is listed: the caches would hide it
	}
	for _, k := range []string{"h//b", "h/./c", "h/../d", "h/" + strings.Repeat("s", 256), "h/ok", "both", "both/inner"} {
		e.put(k, "v")
	}
	if got := e.sh(`ls -a h`); got != ".\n..\nok\n" {
		t.Errorf("ls -a h = %q (unusable keys must be hidden)", got)
	}
	if got := e.sh(`ls; test -d both && echo dir`); got != "both\nh\nimp\ntree\ndir\n" {
		t.Errorf("root = %q", got)
	}
	e.sh(`rm imp/only`)
	if got := e.sh(`ls -a imp && ls`); got != ".\n..\nboth\nh\nimp\ntree\n" {
		t.Errorf("after removing the last entry of an implicit directory: %q", got)
	}
	if !e.exists("imp/") {
		t.Error("no marker written for the implicit directory")
	}
	e.sh(`rmdir imp`)
	if e.exists("imp/") {
		t.Error("rmdir left the marker")
	}
	// Inode numbers: stable across lookups and a rename, distinct.
	e.sh(`echo 1 > a && echo 2 > b`)
	ino := func(p string) uint64 {
		var st syscall.Stat_t
		if err := syscall.Lstat(e.p(p), &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	a1, b1 := ino("a"), ino("b")
	if a1 == b1 || ino("a") != a1 {
		t.Errorf("inode numbers a=%d b=%d", a1, b1)
	}
	e.sh(`mv a c`)
	if ino("c") != a1 {
		t.Errorf("rename changed the inode number")
	}
	// statfs: large numbers, 255-byte names.
	if got := e.sh(`stat -f -c '%l' . && df -P . | tail -1 | awk '{print ($4 > 1000000000)}'`); got != "255\n1\n" {
		t.Errorf("statfs: %q", got)
	}
	// rm -rf of a tree with implicit directories leaves nothing behind.
	e.sh(`rm -rf tree && test ! -e tree`)
	if l, err := e.raw.List(e.ctx(), "tree/", ossclientListRecursive); err != nil || len(l.Objects) != 0 {
		t.Errorf("rm -rf left %+v %v", l, err)
	}
}

// TestMmapWriteUploadedBeforeUnmountEnds: data written through a shared
// mapping reaches the file after close(2), so it is uploaded when the file
// is released; unmounting waits for that upload (slowed down here).
func TestMmapWriteUploadedBeforeUnmountEnds(t *testing.T) {
	need(t, "python3")
	e := newEnv(t, config{})
	e.sh(`printf 'hello world' > m`)
	e.srv.AddFault(osstest.Fault{Op: "PutObject", KeyPrefix: "m", Stall: 700 * time.Millisecond, Times: 1})
	e.sh(`python3 -c '
import mmap, os
fd = os.open("m", os.O_RDWR)
mm = mmap.mmap(fd, 11)
os.close(fd)
mm[0:5] = b"HELLO"
mm.flush()
mm.close()
'`)
	var err error
	for range 100 { // the kernel may still hold the file a moment
		if err = e.m.Unmount(); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("unmount: %v", err)
	}
	e.m.Wait()
	if got, err := e.get("m"); err != nil || got != "HELLO world" {
		t.Errorf("after unmount the object is %q, %v; want the mmap write uploaded", got, err)
	}
}
