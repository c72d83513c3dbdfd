package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/urfave/cli/v2"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// runUploadsCmd runs "ossfs uploads ARGS" in this process (so that
// uploadsNow can be moved) against s, and returns its output.
func (s *ossServer) runUploadsCmd(args ...string) (string, error) {
	var out bytes.Buffer
	app := &cli.App{Name: "ossfs", Commands: []*cli.Command{uploadsCommand()}, Writer: &out, ErrWriter: &out,
		ExitErrHandler: func(*cli.Context, error) {}}
	full := append([]string{"ossfs", "uploads", args[0], "--endpoint", s.srv.Endpoint(), "--region", s.srv.Region(), "--credentials", "env"}, args[1:]...)
	err := app.Run(full)
	return out.String(), err
}

func (s *ossServer) initiate(key string) string {
	s.t.Helper()
	r, err := s.sdk.InitiateMultipartUpload(s.ctx(), &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(testBucket), Key: oss.Ptr(key)})
	if err != nil {
		s.t.Fatal(err)
	}
	return oss.ToString(r.UploadId)
}

// setNow moves the uploads command's clock for the rest of the test.
func setNow(t *testing.T, now time.Time) {
	old := uploadsNow
	uploadsNow = func() time.Time { return now }
	t.Cleanup(func() { uploadsNow = old })
}

// TestUploadsCommand: list shows the open uploads under the prefix only;
// abort is a dry run unless --apply, prints what it would abort, and never
// touches an upload younger than --older-than (24h by default).
func TestUploadsCommand(t *testing.T) {
	s := startServer(t)
	t.Setenv("OSS_ACCESS_KEY_ID", osstest.DefaultAccessKeyID)
	t.Setenv("OSS_ACCESS_KEY_SECRET", osstest.DefaultAccessKeySecret)
	idA, idB := s.initiate("p/a"), s.initiate("p/sub/b")
	s.initiate("other/c")
	spec := testBucket + ":/p"
	t0 := time.Now()

	out, err := s.runUploadsCmd("list", spec)
	if err != nil || !strings.Contains(out, idA+"\ta\n") || !strings.Contains(out, idB+"\tsub/b\n") ||
		strings.Contains(out, "other") || strings.Contains(out, "stale") || !strings.Contains(out, "2 open uploads") {
		t.Errorf("list: %v\n%s", err, out)
	}

	// Fresh uploads: the default age (24h) protects them.
	s.srv.ResetCounts()
	out, err = s.runUploadsCmd("abort", "--apply", spec)
	if err != nil || !strings.Contains(out, "aborted 0 uploads older than 24h0m0s") {
		t.Errorf("abort --apply of fresh uploads: %v\n%s", err, out)
	}
	// A day and an hour later: a dry run prints both and aborts nothing.
	setNow(t, t0.Add(25*time.Hour))
	out, err = s.runUploadsCmd("list", spec)
	if err != nil || strings.Count(out, "\tstale\n") != 2 {
		t.Errorf("list a day later: %v\n%s", err, out)
	}
	out, err = s.runUploadsCmd("abort", spec)
	if err != nil || !strings.Contains(out, "would abort\t") || !strings.Contains(out, idA+"\ta\n") ||
		!strings.Contains(out, idB+"\tsub/b\n") || !strings.Contains(out, "2 uploads older than 24h0m0s under "+spec+" would be aborted; run again with --apply") {
		t.Errorf("dry run: %v\n%s", err, out)
	}
	// --older-than beyond their age: still nothing.
	if out, err = s.runUploadsCmd("abort", "--apply", "--older-than", "26h", spec); err != nil || !strings.Contains(out, "aborted 0 uploads") {
		t.Errorf("abort --older-than 26h: %v\n%s", err, out)
	}
	if n := s.srv.Count("AbortMultipartUpload"); n != 0 {
		t.Fatalf("%d AbortMultipartUpload sent without --apply or for young uploads", n)
	}
	if n := s.srv.OpenUploads(testBucket); n != 3 {
		t.Fatalf("%d uploads open, want 3", n)
	}

	out, err = s.runUploadsCmd("abort", "--apply", spec)
	if err != nil || strings.Count(out, "aborted\t") != 2 || !strings.Contains(out, "aborted 2 uploads") {
		t.Errorf("abort --apply: %v\n%s", err, out)
	}
	if n := s.srv.OpenUploads(testBucket); n != 1 {
		t.Errorf("%d uploads open after aborting those under p/, want the one outside", n)
	}

	for _, bad := range [][]string{{"list"}, {"list", spec, spec}, {"frob", spec}, {"abort", "--older-than", "-1h", spec}} {
		if out, err := s.runUploadsCmd(bad...); err == nil {
			t.Errorf("uploads %q succeeded:\n%s", bad, out)
		}
	}
}

// TestAbortStaleAtMount: --abort-stale-uploads aborts the uploads under
// the mount's prefix at least the age old, spares younger ones and those
// outside the prefix; 0 is off.
func TestAbortStaleAtMount(t *testing.T) {
	s := startServer(t)
	s.initiate("m/a")
	s.initiate("m/sub/b")
	s.initiate("elsewhere/x")
	setNow(t, time.Now().Add(2*time.Hour)) // the uploads are two hours old
	logger := slog.New(slog.DiscardHandler)
	c, err := ossclient.New(ossclient.Config{Endpoint: s.srv.Endpoint(), Region: s.srv.Region(), Bucket: testBucket, Prefix: "m/", Logger: logger,
		Credentials: ossclient.Credentials{Source: ossclient.SourceStatic, AccessKeyID: osstest.DefaultAccessKeyID, AccessKeySecret: osstest.DefaultAccessKeySecret}})
	if err != nil {
		t.Fatal(err)
	}
	s.srv.ResetCounts()
	abortStaleAtMount(c, 0, logger)
	if n := s.srv.TotalRequests(); n != 0 {
		t.Errorf("--abort-stale-uploads 0 sent %d requests", n)
	}
	abortStaleAtMount(c, 3*time.Hour, logger)
	if n := s.srv.OpenUploads(testBucket); n != 3 || s.srv.Count("AbortMultipartUpload") != 0 {
		t.Fatalf("an age of 3h aborted uploads 2h old: %d open", n)
	}
	abortStaleAtMount(c, time.Hour, logger)
	if ups, err := c.ListUploads(context.Background(), ""); err != nil || len(ups) != 0 {
		t.Errorf("uploads left under m/ after aborting those an hour old: %+v, %v", ups, err)
	}
	if n := s.srv.OpenUploads(testBucket); n != 1 {
		t.Errorf("%d uploads open, want only the one outside the prefix", n)
	}
}
