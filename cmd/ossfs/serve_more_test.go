package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestServeMountLineWorks runs the mount line the banner prints, exactly as
// printed (only "ossfs" and /mnt/oss replaced by the built binary and a
// temporary directory, and a --log-file added), and uses the mount against
// the server.
func TestServeMountLineWorks(t *testing.T) {
	requireFUSE(t)
	bin := buildBinary(t)
	mnt, data := t.TempDir(), t.TempDir()
	p := startServe(t, bin, "--addr", "127.0.0.1:0", "--dir", data)
	checkServeBanner(t, p, "cn-hangzhou", "test-bucket", data, "OSS_ACCESS_KEY_ID=ossfs-test-id OSS_ACCESS_KEY_SECRET=ossfs-test-secret", "test-bucket")
	_, after, _ := strings.Cut(p.banner, "Mount it with:\n")
	line, _, _ := strings.Cut(after, "\n\n")
	line = strings.Replace(line, "ossfs mount ", bin+" mount ", 1)
	line = strings.Replace(line, " /mnt/oss", " "+mnt, 1)

	c := p.client(osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret, "cn-hangzhou")
	servePut(t, c, "test-bucket", "from-sdk.txt", []byte("written by the SDK\n"))
	defer unmount(t, mnt)
	// The background mount logs to a test file (flags may follow the
	// arguments), not to the default directory.
	cmd := exec.Command("sh", "-c", line+" --log-file "+filepath.Join(t.TempDir(), "log"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the printed mount line failed: %v\n%s\nline:\n%s", err, out, line)
	}
	if got, err := os.ReadFile(filepath.Join(mnt, "from-sdk.txt")); err != nil || string(got) != "written by the SDK\n" {
		t.Fatalf("reading through the mount: %q %v", got, err)
	}
	if err := os.Symlink("from-sdk.txt", filepath.Join(mnt, "link")); err != nil {
		t.Fatal(err)
	}
	res, err := c.GetSymlink(context.Background(), &oss.GetSymlinkRequest{Bucket: oss.Ptr("test-bucket"), Key: oss.Ptr("link")})
	if err != nil || oss.ToString(res.Target) != "from-sdk.txt" {
		t.Fatalf("ln -s on the mount, seen by the SDK: %v %+v", err, res)
	}
	unmount(t, mnt)
	waitUnmounted(t, mnt)
	p.stop(t, syscall.SIGTERM)
}

// TestServeInMemory: without --dir the banner says so, the defaults
// (test-bucket, cn-hangzhou, the public test key pair) work, and the data is
// gone after a restart. Listening on every interface (--addr :0), the
// banner still names a dialable endpoint (startServe requires 127.0.0.1).
func TestServeInMemory(t *testing.T) {
	bin := buildBinary(t)
	p := startServe(t, bin, "--addr", ":0")
	checkServeBanner(t, p, "cn-hangzhou", "test-bucket", "memory (lost on exit)",
		"OSS_ACCESS_KEY_ID=ossfs-test-id OSS_ACCESS_KEY_SECRET=ossfs-test-secret", "test-bucket")
	c := p.client(osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret, "cn-hangzhou")
	servePut(t, c, "test-bucket", "k", []byte("v"))
	if got := string(serveGet(t, c, "test-bucket", "k")); got != "v" {
		t.Fatalf("got %q", got)
	}
	p.stop(t, syscall.SIGTERM)

	p = startServe(t, bin, "--addr", "127.0.0.1:0")
	c = p.client(osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret, "cn-hangzhou", serveV1)
	_, err := c.HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr("test-bucket"), Key: oss.Ptr("k")})
	serveWantCode(t, err, 404, "NoSuchKey")
	p.stop(t, syscall.SIGINT)
}

// TestServeFlagErrors: a bad flag stops serve before it listens, with one
// line naming the flag.
func TestServeFlagErrors(t *testing.T) {
	bin := buildBinary(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--fault", "GetObject:abc"}, "--fault"},
		{[]string{"--fault", "GetObject:503:X:1:2"}, "PROB"},
		{[]string{"--fault", "GetObject:503:X:1:0.5:extra"}, "too many"},
		{[]string{"--stall", "GetObject:-1s"}, "--stall"},
		{[]string{"--drop", "GetObject:0"}, "--drop"},
		{[]string{"--drop", "GetObject"}, "OP:VALUE"},
		{[]string{"--bandwidth", "fast"}, "--bandwidth"},
		{[]string{"--bucket", "Bad_Name"}, "bucket"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--addr", "127.0.0.1:notaport"}, "notaport"},
		{[]string{"extra-arg"}, "no arguments"},
	}
	for _, tc := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, tc.args...)...).CombinedOutput()
		timedOut := ctx.Err() != nil
		cancel()
		msg := strings.TrimSpace(string(out))
		if err == nil || timedOut {
			t.Errorf("%v: want a failure, got %v\n%s", tc.args, err, out)
		} else if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("%v: want one line mentioning %q, got:\n%s", tc.args, tc.want, msg)
		}
	}
}

func TestParseFaultAndByteSize(t *testing.T) {
	cases := []struct {
		kind, spec string
		want       osstest.Fault
	}{
		{"fault", "UploadPart:503", osstest.Fault{Op: "UploadPart", Status: 503}},
		{"fault", "UploadPart:503:ServiceUnavailable:3", osstest.Fault{Op: "UploadPart", Status: 503, Code: "ServiceUnavailable", Times: 3}},
		{"fault", "*:500::0:0.25", osstest.Fault{Status: 500, Probability: 0.25}},
		{"stall", "GetObject:5s:1", osstest.Fault{Op: "GetObject", Stall: 5 * time.Second, Times: 1}},
		{"stall", "GetObject:250ms::0.5", osstest.Fault{Op: "GetObject", Stall: 250 * time.Millisecond, Probability: 0.5}},
		{"drop", "GetObject:65536:1", osstest.Fault{Op: "GetObject", DropAfter: 65536, Times: 1}},
	}
	for _, tc := range cases {
		got, err := parseFault(tc.kind, tc.spec)
		if err != nil || got != tc.want {
			t.Errorf("parseFault(%s, %q) = %+v, %v; want %+v", tc.kind, tc.spec, got, err, tc.want)
		}
	}
}
