package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ossfs/ossfs/cache"
	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// The fault matrix, one test per scenario; faults_harness_test.go has
// the checks every scenario makes, faults_proc_test.go the scenarios that
// signal or kill the mount process.

func TestFaultUploadPart503Thrice(t *testing.T) {
	e := newFaultEnv(t, config{})
	e.srv.AddFault(osstest.Fault{Op: "UploadPart", Status: 503, Times: 3})
	if err := e.goWrite("a", randBytes(4<<20)); err != nil {
		t.Errorf("Go writer: %v, want success (SDK retries, then a retry from the in-memory head)", err)
	}
	src, files := localTree(t, map[string]int{"big": 3 << 20})
	if out, err := e.trySh(`cp "$SRC/big" cp-big`, "SRC="+src); err != nil {
		t.Errorf("cp: %v\n%s", err, out)
	}
	e.checkTree(t, "cp-", files, true)
	e.check(t, "UploadPart", 3)
}

func TestFaultUploadPart503Always(t *testing.T) {
	e := newFaultEnv(t, config{})
	e.srv.AddFault(osstest.Fault{Op: "UploadPart", Status: 503})
	wantErrno(t, "Go writer of 10 MiB (past the in-memory head)", e.goWrite("big", randBytes(10<<20)), syscall.EIO)
	wantErrno(t, "Go writer of 2 MiB (within the head)", e.goWrite("mid", randBytes(2<<20)), syscall.EIO)
	if err := e.goWrite("small", []byte("one PutObject")); err != nil {
		t.Errorf("a small file (no UploadPart): %v", err)
	}
	e.check(t, "UploadPart", 3)
}

func TestFaultPutObject503Always(t *testing.T) {
	e := newFaultEnv(t, config{})
	e.put("keep", "old bytes")
	e.srv.AddFault(osstest.Fault{Op: "PutObject", Status: 503})
	wantErrno(t, "Go writer", e.goWrite("new", []byte("new bytes")), syscall.EIO)
	wantErrno(t, "Go writer over an object", e.goWrite("keep", []byte("replacement")), syscall.EIO)
	src, files := localTree(t, map[string]int{"a": 1000, "b": 2000})
	out, err := e.trySh(`cp -r "$SRC"/. .`, "SRC="+src)
	wantToolFailure(t, "cp -r", out, err, syscall.EIO)
	e.checkTree(t, "", files, false)
	e.check(t, "PutObject", 3)
}

func TestFaultComplete500Once(t *testing.T) {
	e := newFaultEnv(t, config{})
	e.srv.AddFault(osstest.Fault{Op: "CompleteMultipartUpload", Status: 500, Times: 1})
	if err := e.goWrite("big", randBytes(10<<20)); err != nil {
		t.Errorf("Go writer: %v, want success (the SDK retries the completion)", err)
	}
	e.check(t, "CompleteMultipartUpload", 1)
}

func TestFaultInitiate503Once(t *testing.T) {
	e := newFaultEnv(t, config{})
	e.srv.AddFault(osstest.Fault{Op: "InitiateMultipartUpload", Status: 503, Times: 1})
	if err := e.goWrite("big", randBytes(10<<20)); err != nil {
		t.Errorf("Go writer: %v, want success (the SDK retries the initiation)", err)
	}
	e.check(t, "InitiateMultipartUpload", 1)
}

// TestFaultServerRestart: the server is killed while a file is being
// streamed (past the in-memory head) and restarted on the same directory.
// Files closed before the kill are there; the open upload died with the
// server, so the writer gets EIO, never a silent short file.
func TestFaultServerRestart(t *testing.T) {
	dir := t.TempDir()
	srv, err := osstest.Start(osstest.Options{Buckets: []string{bucketName}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(srv.Endpoint(), "http://")
	restarted := srv
	t.Cleanup(func() { restarted.Close() })
	e := newFaultEnv(t, config{srv: srv})
	if err := e.goWrite("before", randBytes(3<<20)); err != nil {
		t.Fatal(err)
	}
	data := randBytes(14 << 20)
	err = writeAndClose(e.p("streamed"), data, 10<<20, func() { // past the 8 MiB head
		srv.Close()
		restarted, err = osstest.Start(osstest.Options{Addr: addr, Buckets: []string{bucketName}, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		e.srv = restarted
	})
	e.files = append(e.files, written{key: "streamed", data: data, err: err})
	wantErrno(t, "the writer whose upload died with the server", err, syscall.EIO)
	if err := e.goWrite("after", randBytes(2<<20)); err != nil {
		t.Errorf("a file written after the restart: %v", err)
	}
	for _, key := range []string{"before", "after"} {
		if _, err := e.get(key); err != nil {
			t.Errorf("(a) %s after the restart: %v", key, err)
		}
	}
	if got, err := e.get("streamed"); err == nil && got != string(data) {
		t.Errorf("(c) a partial object is visible: %d bytes", len(got))
	}
	e.checkNoUploads(t)
}

// TestFaultGetStalled: a GET that stalls past --read-write-timeout is
// abandoned and tried again; the reader gets the right bytes.
func TestFaultGetStalled(t *testing.T) {
	e := newFaultEnv(t, config{client: func(c *ossclient.Config) { c.ReadWriteTimeout = 500 * time.Millisecond }})
	data := randBytes(2 << 20)
	e.put("f", string(data))
	e.srv.AddFault(osstest.Fault{Op: "GetObject", KeyPrefix: "f", Stall: 5 * time.Second, Times: 1})
	got, err := os.ReadFile(e.p("f"))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("read through a stalled GET: %d bytes, %v; want the %d bytes", len(got), err, len(data))
	}
	e.check(t, "GetObject", 1)
}

// TestFaultHead503: a lookup whose HEAD keeps failing is EIO, never ENOENT
// (a missing name would make programs create it over the real one); a
// transient failure during git is absorbed by the SDK's retries.
func TestFaultHead503(t *testing.T) {
	need(t, "git")
	e := newFaultEnv(t, config{cache: func(o *cache.Options) { o.StatTTL, o.NegativeTTL, o.ListTTL = -1, -1, -1 }})
	e.put("h", "x")
	remove := e.srv.AddFault(osstest.Fault{Op: "HeadObject", Status: 503})
	_, err := os.Stat(e.p("h"))
	wantErrno(t, "stat during HEAD 503", err, syscall.EIO)
	remove()
	if _, err := os.Stat(e.p("h")); err != nil {
		t.Errorf("stat after the fault: %v", err)
	}

	e.srv.AddFault(osstest.Fault{Op: "HeadObject", Status: 503, Times: 2})
	out, err := e.trySh(`mkdir repo && cd repo && git init -q && echo hi > f && git add f && git -c user.name=t -c user.email=t@e commit -qm one && git log --oneline | wc -l`)
	if err != nil || strings.TrimSpace(out) != "1" {
		t.Errorf("git with two HEAD 503s: %v\n%s", err, out)
	}
	if e.mustGet("repo/f") != "hi\n" {
		t.Error("repo/f differs")
	}
	e.check(t, "HeadObject", 3)
}

func TestFaultList503(t *testing.T) {
	e := newFaultEnv(t, config{cache: func(o *cache.Options) { o.ListTTL = -1 }})
	e.put("d/a", "1")
	e.put("d/b", "2")
	dir, err := os.Open(e.p("d")) // looked up before the fault: the readdir meets it
	if err != nil {
		t.Fatal(err)
	}
	remove := e.srv.AddFault(osstest.Fault{Op: "ListObjectsV2", Status: 503})
	names, err := dir.Readdirnames(-1)
	wantErrno(t, "readdir during ListObjectsV2 503", err, syscall.EIO)
	if len(names) != 0 {
		t.Errorf("readdir returned %q with an error", names)
	}
	dir.Close()
	out, err := e.trySh(`ls d`)
	wantToolFailure(t, "ls during ListObjectsV2 503", out, err, syscall.EIO)
	remove()
	if out := e.sh(`ls d`); out != "a\nb\n" {
		t.Errorf("ls after the fault: %q", out)
	}
	e.check(t, "ListObjectsV2", 2)
}

func TestFaultPutSymlink503(t *testing.T) {
	e := newFaultEnv(t, config{})
	remove := e.srv.AddFault(osstest.Fault{Op: "PutSymlink", Status: 503})
	out, err := e.trySh(`ln -s target link`)
	wantToolFailure(t, "ln -s during PutSymlink 503", out, err, syscall.EIO)
	if e.exists("link") {
		t.Error("(c) a link exists after a failed ln -s")
	}
	remove()
	e.srv.AddFault(osstest.Fault{Op: "PutSymlink", Status: 503, Times: 1})
	e.sh(`ln -s target link2`)
	if s, err := e.raw.GetSymlink(e.ctx(), "link2"); err != nil || s.Target != "target" {
		t.Errorf("ln -s with one PutSymlink 503: %+v, %v", s, err)
	}
	e.check(t, "PutSymlink", 4)
}

// TestFaultCopy503MidRename: a directory rename whose second CopyObject
// keeps failing fails with EIO and is rolled back: the source is whole and
// nothing is left under the new name.
func TestFaultCopy503MidRename(t *testing.T) {
	e := newFaultEnv(t, config{})
	files := map[string][]byte{"a": []byte("A"), "b": []byte("B"), "c": []byte("C")}
	for k, v := range files {
		e.put("src/"+k, string(v))
	}
	e.srv.AddFault(osstest.Fault{Op: "CopyObject", KeyPrefix: "dst/b", Status: 503})
	wantErrno(t, "rename of the directory", os.Rename(e.p("src"), e.p("dst")), syscall.EIO)
	e.checkTree(t, "src/", files, true)
	l, err := e.raw.List(e.ctx(), "dst/", ossclient.ListOptions{Recursive: true})
	if err != nil || len(l.Objects) != 0 {
		t.Errorf("objects left under dst/ after the rollback: %+v, %v", l, err)
	}
	if out := e.sh(`ls src`); out != "a\nb\nc\n" {
		t.Errorf("ls src after the failed rename: %q", out)
	}
	e.check(t, "CopyObject", 1)
}

// TestFaultDelete503AfterRenameCopy: mv of a file whose source cannot be
// deleted after the copy fails with EIO; the copy is undone, so the file is
// where it was and nothing is at the new name (fs/rename.go undoCopy).
func TestFaultDelete503AfterRenameCopy(t *testing.T) {
	e := newFaultEnv(t, config{})
	e.put("f", "payload")
	e.srv.AddFault(osstest.Fault{Op: "DeleteObject", KeyPrefix: "f", Status: 503})
	err := os.Rename(e.p("f"), e.p("g"))
	wantErrno(t, "rename whose delete fails", err, syscall.EIO)
	if got, err := e.get("f"); err != nil || got != "payload" {
		t.Errorf("f after the failed rename: %q, %v", got, err)
	}
	if e.exists("g") {
		t.Errorf("g exists after the failed rename")
	}
	e.check(t, "DeleteObject", 1)
}

// TestFaultTempDirFull: a file written other than sequentially is staged
// in --temp-dir; when that is full the write fails with ENOSPC and nothing
// reaches OSS. A sequential writer (streamed, no temp file) is unaffected.
func TestFaultTempDirFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs as the temp dir needs root")
	}
	tmp := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", tmp).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", tmp).Run() })
	e := newFaultEnv(t, config{fs: func(o *ossfs.Options) { o.TempDir = tmp }})
	data := randBytes(3 << 20)
	f, err := os.Create(e.p("random"))
	if err != nil {
		t.Fatal(err)
	}
	// Back to front: not an append, so the file is staged. model is what
	// the writes that succeeded put in the file (as on a local disk, the
	// file keeps them after one fails).
	var werr error
	var model []byte
	for off := len(data) - 256<<10; off >= 0 && werr == nil; off -= 256 << 10 {
		if _, werr = f.WriteAt(data[off:off+256<<10], int64(off)); werr == nil {
			if model == nil {
				model = make([]byte, len(data))
			}
			copy(model[off:], data[off:off+256<<10])
		}
	}
	cerr := f.Close()
	wantErrno(t, "staged writes into a full temp dir", werr, syscall.ENOSPC)
	// The close's result is what the program is told about the file as it
	// stands after the failed write: success means exactly model is in OSS.
	e.files = append(e.files, written{key: "random", data: model, err: cerr})
	if err := e.goWrite("sequential", randBytes(3<<20)); err != nil {
		t.Errorf("a sequential writer while the temp dir is full: %v", err)
	}
	e.check(t, "", 0)
}

// TestFaultLazyUnmountDuringUpload: umount -l while a file is being
// streamed: the file's descriptor keeps working, its close uploads it
// whole, and the mount ends once it is closed.
func TestFaultLazyUnmountDuringUpload(t *testing.T) {
	e := newFaultEnv(t, config{})
	hold := make(chan struct{})
	e.srv.AddFault(osstest.Fault{Op: "UploadPart", Hold: hold, Times: 1})
	data := randBytes(10 << 20)
	err := writeAndClose(e.p("big"), data, 4<<20, func() {
		waitFault(t, e.srv, "UploadPart", 1) // a part is in flight, held
		// umount -l is umount(2) with MNT_DETACH (the umount tool itself
		// stats the mount and waits behind the writer it is detaching);
		// a user's is fusermount3 -u -z.
		if err := lazyUnmount(e.mnt); err != nil {
			t.Errorf("umount -l: %v", err)
		}
		if mounted(e.mnt) {
			t.Error("still in the namespace after umount -l")
		}
		close(hold)
	})
	e.files = append(e.files, written{key: "big", data: data, err: err})
	if err != nil {
		t.Errorf("writer across umount -l: %v", err)
	}
	done := make(chan struct{})
	go func() { e.m.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the mount did not end after umount -l and the last close")
	}
	e.gone = true
	e.check(t, "UploadPart", 1)
}

// lazyUnmount is umount -l: umount(2) with MNT_DETACH as root, fusermount3
// -u -z as a user.
func lazyUnmount(mnt string) error {
	if os.Geteuid() == 0 {
		return syscall.Unmount(mnt, syscall.MNT_DETACH)
	}
	if out, err := exec.Command("fusermount3", "-u", "-z", mnt).CombinedOutput(); err != nil {
		return fmt.Errorf("fusermount3 -u -z: %v: %s", err, out)
	}
	return nil
}

// The GET-cut scenarios (8-10): a body cut short is resumed from the byte
// reached (issue 10 point 3).

// readCut reads f through the mount at least n times with O_DIRECT (every read
// reaches ossfs: neither the page cache nor the kernel's retry of a failed
// read-ahead hides an error) with a fault installed, each read byte for
// byte, then checks the fault fired.
func (e *faultEnv) readCut(t *testing.T, f osstest.Fault, n int, fired int64) {
	t.Helper()
	data := randBytes(3 << 20)
	e.put("f", string(data))
	e.srv.AddFault(f)
	// At least n reads, and more (up to 100) until the fault has fired
	// often enough: a probabilistic fault may spare the first ones.
	for i := 0; i < n || (i < 100 && e.srv.FaultCounts()["GetObject"] < fired); i++ {
		got, err := readDirect(e.p("f"))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("read %d through cut GETs: %d bytes, %v; want the %d bytes", i, len(got), err, len(data))
		}
	}
	e.check(t, "GetObject", fired)
}

func TestFaultGetCutOnce(t *testing.T) {
	e := newFaultEnv(t, config{})
	e.readCut(t, osstest.Fault{Op: "GetObject", KeyPrefix: "f", DropAfter: 64 << 10, Times: 1}, 1, 1)
}

func TestFaultGetCutThrice(t *testing.T) {
	e := newFaultEnv(t, config{})
	e.readCut(t, osstest.Fault{Op: "GetObject", KeyPrefix: "f", DropAfter: 64 << 10, Times: 3}, 1, 3)
}

func TestFaultGetCutOneInTen(t *testing.T) {
	e := newFaultEnv(t, config{})
	e.readCut(t, osstest.Fault{Op: "GetObject", KeyPrefix: "f", DropAfter: 1000, Probability: 0.1}, 8, 3)
}

// TestFaultTokenExpires: the STS token expires mid-run, while a file is
// being streamed; the credential source can hand out a new one. The
// upload's next requests are rejected (403 SecurityTokenExpired), signed
// again with the new key, and the writer never notices.
func TestFaultTokenExpires(t *testing.T) {
	gen1 := osstest.Credential{AccessKeyID: "sts-1", AccessKeySecret: "secret-1", SecurityToken: "token-1"}
	gen2 := osstest.Credential{AccessKeyID: "sts-2", AccessKeySecret: "secret-2", SecurityToken: "token-2"}
	srv, err := osstest.Start(osstest.Options{Buckets: []string{bucketName},
		Credentials: []osstest.Credential{{AccessKeyID: osstest.DefaultAccessKeyID, AccessKeySecret: osstest.DefaultAccessKeySecret}, gen1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	var current atomic.Pointer[osstest.Credential]
	current.Store(&gen1)
	e := newFaultEnv(t, config{srv: srv, client: func(c *ossclient.Config) {
		c.Credentials = ossclient.Credentials{Refresh: func(context.Context) (ossclient.Key, error) {
			k := current.Load()
			return ossclient.Key{ID: k.AccessKeyID, Secret: k.AccessKeySecret, Token: k.SecurityToken, Expires: time.Now().Add(time.Hour)}, nil
		}}
	}})
	if err := e.goWrite("before", []byte("small")); err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	srv.AddFault(osstest.Fault{Op: "UploadPart", Hold: hold, Times: 1})
	data := randBytes(10 << 20)
	err = writeAndClose(e.p("big"), data, 4<<20, func() {
		waitFault(t, srv, "UploadPart", 1) // the upload is under way, signed with gen1
		srv.ExpireCredential(gen1.AccessKeyID)
		srv.SetCredential(gen2)
		current.Store(&gen2)
		close(hold)
	})
	e.files = append(e.files, written{key: "big", data: data, err: err})
	if err != nil {
		t.Errorf("writer across the token's expiry: %v", err)
	}
	if out, err := e.trySh(`ls && cat before`); err != nil || out != "before\nbig\nsmall" {
		t.Errorf("ls and cat after the expiry: %v %q", err, out)
	}
	e.check(t, "SecurityTokenExpired", 1)
}
