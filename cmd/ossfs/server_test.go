package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// ossServer is an in-process OSS-compatible server that the ossfs binary,
// a subprocess, reaches over HTTP as it would reach OSS.
type ossServer struct {
	t   *testing.T
	srv *osstest.Server
	sdk *oss.Client // the official SDK: "another OSS client"
}

const testBucket = "cli-bucket"

func startServer(t *testing.T) *ossServer {
	t.Helper()
	srv, err := osstest.Start(osstest.Options{Buckets: []string{testBucket}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := oss.NewConfig().
		WithEndpoint(srv.Endpoint()).
		WithRegion(srv.Region()).
		WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret))
	return &ossServer{t: t, srv: srv, sdk: oss.NewClient(cfg)}
}

// env is the environment of an ossfs subprocess with credentials id and
// secret in the variables the OSS SDKs read, and no credential file.
func (s *ossServer) env(id, secret string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OSS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+s.t.TempDir(), "OSS_ACCESS_KEY_ID="+id, "OSS_ACCESS_KEY_SECRET="+secret)
}

func (s *ossServer) goodEnv() []string {
	return s.env(osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret)
}

// mountArgs are the arguments of "ossfs mount" against this server.
func (s *ossServer) mountArgs(bucket, mnt string, flags ...string) []string {
	args := append([]string{"mount", "--endpoint", s.srv.Endpoint(), "--region", s.srv.Region()}, flags...)
	return append(args, bucket, mnt)
}

func (s *ossServer) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	s.t.Cleanup(cancel)
	return ctx
}

func (s *ossServer) put(key, body string) {
	s.t.Helper()
	_, err := s.sdk.PutObject(s.ctx(), &oss.PutObjectRequest{Bucket: oss.Ptr(testBucket), Key: oss.Ptr(key), Body: strings.NewReader(body)})
	if err != nil {
		s.t.Fatalf("PutObject %s: %v", key, err)
	}
}

// get reads key (following a symlink, as GetObject does).
func (s *ossServer) get(key string) (string, error) {
	r, err := s.sdk.GetObject(s.ctx(), &oss.GetObjectRequest{Bucket: oss.Ptr(testBucket), Key: oss.Ptr(key)})
	if err != nil {
		return "", err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return string(b), err
}

// listed returns the listing entry of exactly key.
func (s *ossServer) listed(key string) oss.ObjectProperties {
	s.t.Helper()
	res, err := s.sdk.ListObjectsV2(s.ctx(), &oss.ListObjectsV2Request{Bucket: oss.Ptr(testBucket), Prefix: oss.Ptr(key)})
	if err != nil {
		s.t.Fatalf("ListObjectsV2 %s: %v", key, err)
	}
	for _, o := range res.Contents {
		if oss.ToString(o.Key) == key {
			return o
		}
	}
	s.t.Fatalf("%s is not listed", key)
	return oss.ObjectProperties{}
}

// runEnv runs the binary with env and returns its combined output.
func runEnv(env []string, bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mountBackground mounts with the default (background) mode and arranges
// the unmount; it fails the test unless the command returned with the mount
// ready.
func mountBackground(t *testing.T, env []string, bin string, args ...string) {
	t.Helper()
	mnt := args[len(args)-1]
	logFile := filepath.Join(t.TempDir(), "ossfs.log")
	args = append([]string{args[0], "--log-file", logFile}, args[1:]...)
	out, err := runEnv(env, bin, args...)
	t.Cleanup(func() {
		for i := 0; i < 3 && isMounted(mnt); i++ { // stacked mounts too
			unmount(t, mnt)
		}
		waitUnmounted(t, mnt)
	})
	if err != nil {
		t.Fatalf("ossfs %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if !isMounted(mnt) {
		log, _ := os.ReadFile(logFile)
		t.Fatalf("the command returned but %s is not mounted:\n%s\n%s", mnt, out, log)
	}
}

func wantOneLine(t *testing.T, out, want string) {
	t.Helper()
	if !strings.Contains(out, want) {
		t.Errorf("output %q does not mention %q", out, want)
	}
	if n := strings.Count(strings.TrimSpace(out), "\n"); n > 0 {
		t.Errorf("want one line, got %d:\n%s", n+1, out)
	}
}
