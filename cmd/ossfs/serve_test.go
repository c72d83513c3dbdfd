package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// serveOutput collects a child's output while the test reads it.
type serveOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *serveOutput) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *serveOutput) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveProc is a running `ossfs serve` child.
type serveProc struct {
	cmd      *exec.Cmd
	endpoint string
	banner   string // stdout up to and including "Press Ctrl-C to stop."
	stdout   *serveOutput
	stderr   *serveOutput
	done     chan error
}

// startServe runs `BIN serve ARGS...` and waits for its banner.
func startServe(t *testing.T, bin string, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{cmd: exec.Command(bin, append([]string{"serve"}, args...)...), stdout: &serveOutput{}, stderr: &serveOutput{},
		done: make(chan error, 1)}
	p.cmd.Stderr = p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			fmt.Fprintln(p.stdout, sc.Text())
			if sc.Text() == "Press Ctrl-C to stop." {
				close(ready)
			}
		}
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	select {
	case <-ready:
	case err := <-p.done:
		t.Fatalf("serve exited before its banner (%v)\nstdout:\n%s\nstderr:\n%s", err, p.stdout, p.stderr)
	case <-time.After(20 * time.Second):
		t.Fatalf("no banner after 20s\nstdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
	}
	p.banner = p.stdout.String()
	for _, line := range strings.Split(p.banner, "\n") {
		if ep, ok := strings.CutPrefix(strings.TrimSpace(line), "endpoint: "); ok {
			p.endpoint = ep
		}
	}
	if !strings.HasPrefix(p.endpoint, "http://127.0.0.1:") || strings.HasSuffix(p.endpoint, ":0") {
		t.Fatalf("no usable endpoint in the banner:\n%s", p.banner)
	}
	return p
}

// stop sends sig and requires a clean exit (status 0) within 20 s.
func (p *serveProc) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("serve exited with %v after %v\nstderr:\n%s", err, sig, p.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve still running 20s after %v\nstderr:\n%s", sig, p.stderr)
	}
}

func (p *serveProc) client(id, secret, region string, opts ...func(*oss.Config)) *oss.Client {
	cfg := oss.LoadDefaultConfig().WithEndpoint(p.endpoint).WithRegion(region).WithRetryMaxAttempts(1).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret))
	for _, o := range opts {
		o(cfg)
	}
	return oss.NewClient(cfg)
}

func (p *serveProc) stats(t *testing.T) (counts map[string]int64, total int64) {
	t.Helper()
	resp, err := http.Get(p.endpoint + "/_ossfs/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Counts map[string]int64 `json:"counts"`
		Total  int64            `json:"total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("stats: %d %v", resp.StatusCode, err)
	}
	return st.Counts, st.Total
}

func serveV1(c *oss.Config) { c.WithSignatureVersion(oss.SignatureVersionV1) }

func serveWantCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	var se *oss.ServiceError
	if !errors.As(err, &se) || se.StatusCode != status || se.Code != code {
		t.Fatalf("want %d %s, got %v", status, code, err)
	}
}

func servePut(t *testing.T, c *oss.Client, bucket, key string, data []byte) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key),
		Body: bytes.NewReader(data)}); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

func serveGet(t *testing.T, c *oss.Client, bucket, key string) []byte {
	t.Helper()
	res, err := c.GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("get %s/%s body: %v", bucket, key, err)
	}
	return data
}

// TestServeBinary runs the built `ossfs serve` with every flag, drives it with
// the official SDK (V4 and V1), checks the banner, the injected latency,
// bandwidth, fault, stall and drop, the stats endpoints, a clean SIGTERM
// while a request is in flight, and that a restart on the same --dir finds
// the data; the second run stops on SIGINT.
func TestServeBinary(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	const id, secret, region = "my-key-id", "my secret value", "cn-test"
	p := startServe(t, bin, "--addr", "127.0.0.1:0", "--dir", dir, "--bucket", "alpha-bkt", "--bucket", "beta-bkt",
		"--access-key-id", id, "--access-key-secret", secret, "--region", region,
		"--latency", "40ms", "--bandwidth", "1M",
		"--fault", "HeadObject:503:SlowDown:1", "--stall", "GetObjectMeta:800ms:1", "--drop", "GetObject:100:1")
	// A secret the user chose is never printed.
	checkServeBanner(t, p, region, "alpha-bkt, beta-bkt", dir,
		"OSS_ACCESS_KEY_ID="+id+" OSS_ACCESS_KEY_SECRET=<the --access-key-secret you chose>", "alpha-bkt")

	c := p.client(id, secret, region)
	data := bytes.Repeat([]byte("0123456789"), 100)
	servePut(t, c, "alpha-bkt", "first", data)
	checkServeInjected(t, p, c, data)
	wrongSecret := p.client(id, "not the secret", region)
	_, err := wrongSecret.ListObjectsV2(context.Background(), &oss.ListObjectsV2Request{Bucket: oss.Ptr("alpha-bkt")})
	serveWantCode(t, err, 403, "SignatureDoesNotMatch")
	_, err = p.client(id, secret, "cn-hangzhou").ListObjectsV2(context.Background(), &oss.ListObjectsV2Request{Bucket: oss.Ptr("alpha-bkt")})
	serveWantCode(t, err, 400, "InvalidArgument") // V4 scoped to a region other than --region

	for name, cl := range map[string]*oss.Client{"v4": c, "v1": p.client(id, secret, region, serveV1)} {
		for _, b := range []string{"alpha-bkt", "beta-bkt"} {
			servePut(t, cl, b, "dir/"+name+" key+1", []byte(name+" in "+b))
		}
		if _, err := cl.PutSymlink(context.Background(), &oss.PutSymlinkRequest{Bucket: oss.Ptr("beta-bkt"),
			Key: oss.Ptr("link-" + name), Target: oss.Ptr("dir/" + name + "%20key%2B1")}); err != nil {
			t.Fatalf("%s PutSymlink: %v", name, err)
		}
	}
	checkServeStats(t, p)
	checkServeGracefulStop(t, p, c)
	if strings.Contains(p.stdout.String()+p.stderr.String(), secret) {
		t.Fatal("the secret appears in the output")
	}

	// Restart on the same directory, buckets from disk, and stop with SIGINT.
	p2 := startServe(t, bin, "--addr", "127.0.0.1:0", "--dir", dir, "--bucket", "beta-bkt",
		"--access-key-id", id, "--access-key-secret", secret, "--region", region)
	if !strings.Contains(p2.banner, "buckets:  alpha-bkt, beta-bkt\n") {
		t.Fatalf("buckets from disk not served:\n%s", p2.banner)
	}
	c2 := p2.client(id, secret, region)
	if got := serveGet(t, c2, "alpha-bkt", "first"); !bytes.Equal(got, data) {
		t.Fatalf("after restart: %d bytes", len(got))
	}
	for _, name := range []string{"v4", "v1"} {
		for _, b := range []string{"alpha-bkt", "beta-bkt"} {
			if got := string(serveGet(t, c2, b, "dir/"+name+" key+1")); got != name+" in "+b {
				t.Fatalf("after restart %s: %q", b, got)
			}
		}
		if got := string(serveGet(t, c2, "beta-bkt", "link-"+name)); got != name+" in beta-bkt" {
			t.Fatalf("link after restart: %q", got)
		}
	}
	p2.stop(t, syscall.SIGINT)
	if !strings.Contains(p2.stderr.String(), "signal=interrupt") {
		t.Fatalf("no stop message for SIGINT:\n%s", p2.stderr)
	}
}

func checkServeBanner(t *testing.T, p *serveProc, region, buckets, storage, env, first string) {
	t.Helper()
	for _, want := range []string{
		"  endpoint: " + p.endpoint + "\n",
		"  region:   " + region + "\n",
		"  buckets:  " + buckets + "\n",
		"  storage:  " + storage + "\n",
		"  stats:    " + p.endpoint + "/_ossfs/stats\n",
		"Mount it with:\n  " + env + " \\\n" +
			"    ossfs mount --endpoint " + p.endpoint + " --region " + region + " " + first + " /mnt/oss\n",
	} {
		if !strings.Contains(p.banner, want) {
			t.Fatalf("banner lacks %q:\n%s", want, p.banner)
		}
	}
}

// checkServeInjected sees each flag-installed fault fire once, and the latency
// and bandwidth flags take effect.
func checkServeInjected(t *testing.T, p *serveProc, c *oss.Client, data []byte) {
	t.Helper()
	ctx := context.Background()
	head := &oss.HeadObjectRequest{Bucket: oss.Ptr("alpha-bkt"), Key: oss.Ptr("first")}
	_, err := c.HeadObject(ctx, head)
	serveWantCode(t, err, 503, "SlowDown")
	t0 := time.Now()
	if _, err := c.HeadObject(ctx, head); err != nil {
		t.Fatalf("second HEAD (fault used up): %v", err)
	}
	if d := time.Since(t0); d < 40*time.Millisecond {
		t.Fatalf("HEAD took %v with --latency 40ms", d)
	}
	res, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr("alpha-bkt"), Key: oss.Ptr("first")})
	if err != nil {
		t.Fatalf("dropped GET should get headers: %v", err)
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err == nil || len(got) != 100 {
		t.Fatalf("--drop GetObject:100: read %d bytes, err %v", len(got), err)
	}
	if got := serveGet(t, c, "alpha-bkt", "first"); !bytes.Equal(got, data) {
		t.Fatal("GET after the drop differs")
	}
	t0 = time.Now()
	servePut(t, c, "alpha-bkt", "throttled", make([]byte, 512<<10))
	if d := time.Since(t0); d < 400*time.Millisecond {
		t.Fatalf("512 KiB upload at --bandwidth 1M took only %v", d)
	}
}

func checkServeStats(t *testing.T, p *serveProc) {
	t.Helper()
	counts, total := p.stats(t)
	if counts["PutObject"] != 6 || counts["HeadObject"] != 2 || counts["PutSymlink"] != 2 || total < 12 {
		t.Fatalf("stats: %v total %d", counts, total)
	}
	resp, err := http.Post(p.endpoint+"/_ossfs/stats/reset", "", nil)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("reset: %v %v", err, resp)
	}
	resp.Body.Close()
	if counts, total := p.stats(t); total != 0 || len(counts) != 0 {
		t.Fatalf("after reset: %v total %d", counts, total)
	}
}

// checkServeGracefulStop sends SIGTERM while a GetObjectMeta is held by the
// --stall flag: the request still completes and the server exits 0.
func checkServeGracefulStop(t *testing.T, p *serveProc, c *oss.Client) {
	t.Helper()
	type result struct {
		err error
		d   time.Duration
	}
	ch := make(chan result, 1)
	go func() {
		t0 := time.Now()
		_, err := c.GetObjectMeta(context.Background(), &oss.GetObjectMetaRequest{Bucket: oss.Ptr("alpha-bkt"), Key: oss.Ptr("first")})
		ch <- result{err, time.Since(t0)}
	}()
	for i := 0; ; i++ { // the request is counted before the stall starts
		if counts, _ := p.stats(t); counts["GetObjectMeta"] == 1 {
			break
		}
		if i == 200 {
			t.Fatal("GetObjectMeta never reached the server")
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.stop(t, syscall.SIGTERM)
	r := <-ch
	if r.err != nil || r.d < 800*time.Millisecond {
		t.Fatalf("in-flight request across SIGTERM: %v after %v (--stall 800ms)", r.err, r.d)
	}
	if !strings.Contains(p.stderr.String(), "signal=terminated") {
		t.Fatalf("no stop message for SIGTERM:\n%s", p.stderr)
	}
}
