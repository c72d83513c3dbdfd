package ossclient_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// noBackoff makes resumes immediate, so the tests never sleep.
func noBackoff(c *ossclient.Config) { c.ResumeBackoff = func(int) time.Duration { return 0 } }

func getAll(t *testing.T, c ossclient.Bucket, key string, off, n int64, opts ossclient.ReadOptions) (*ossclient.Body, []byte, error) {
	t.Helper()
	b, err := c.Get(context.Background(), key, off, n, opts)
	if err != nil {
		return nil, nil, err
	}
	defer b.Close()
	data, err := io.ReadAll(b)
	return b, data, err
}

// TestConformanceGetVersion: Get reports the version (ETag, the whole
// object's size, metadata) with the bytes, at 0, inside, past the end and
// for an empty object; If-Match and If-None-Match do what they say. What
// the open-time revalidation of package fs relies on, so it runs against
// real OSS too (onTargets).
func TestConformanceGetVersion(t *testing.T) {
	onTargets(t, func(t *testing.T, c *ossclient.Client) {
		o := put(t, c, "f", "0123456789", ossclient.PutOptions{Meta: map[string]string{"mode": "33188"}})
		put(t, c, "empty", "", ossclient.PutOptions{})
		for _, tc := range []struct {
			key      string
			off, n   int64
			want     string
			wantSize int64
		}{
			{"f", 0, 4, "0123", 10},
			{"f", 0, 1 << 20, "0123456789", 10},
			{"f", 3, 4, "3456", 10},
			{"f", 3, -1, "3456789", 10},
			{"f", 10, 5, "", 10},
			{"empty", 0, 1 << 20, "", 0},
		} {
			b, data, err := getAll(t, c, tc.key, tc.off, tc.n, ossclient.ReadOptions{})
			if err != nil {
				t.Fatalf("Get(%s, %d, %d): %v", tc.key, tc.off, tc.n, err)
			}
			// Past the end, OSS answers 416, an error without the version's
			// headers: only the (empty) bytes are promised there.
			pastEnd := tc.off >= tc.wantSize && tc.wantSize > 0
			if string(data) != tc.want || (!pastEnd && (b.Object.Size != tc.wantSize || b.Object.ETag == "")) {
				t.Errorf("Get(%s, %d, %d) = %q, %+v; want %q size %d", tc.key, tc.off, tc.n, data, b.Object, tc.want, tc.wantSize)
			}
		}
		b, _, _ := getAll(t, c, "f", 0, 4, ossclient.ReadOptions{})
		if b.Object.ETag != o.ETag || b.Object.Meta["mode"] != "33188" {
			t.Errorf("Get's object = %+v, want ETag %s and the metadata", b.Object, o.ETag)
		}
		if _, data, err := getAll(t, c, "f", 2, 3, ossclient.ReadOptions{IfMatch: o.ETag}); err != nil || string(data) != "234" {
			t.Errorf("If-Match the current ETag: %q, %v", data, err)
		}
		_, _, err := getAll(t, c, "f", 2, 3, ossclient.ReadOptions{IfMatch: "0123"})
		wantKind(t, "If-Match another ETag", err, ossclient.ErrPreconditionFailed)
		if b, data, err := getAll(t, c, "f", 0, 4, ossclient.ReadOptions{IfNoneMatch: o.ETag}); err != nil || !b.NotModified || len(data) != 0 {
			t.Errorf("If-None-Match the current ETag: %+v, %q, %v; want NotModified", b, data, err)
		}
		if b, data, err := getAll(t, c, "f", 0, 4, ossclient.ReadOptions{IfNoneMatch: "0123"}); err != nil || b.NotModified || string(data) != "0123" {
			t.Errorf("If-None-Match another ETag: %+v, %q, %v", b, data, err)
		}
		_, _, err = getAll(t, c, "missing", 0, 4, ossclient.ReadOptions{})
		wantKind(t, "Get of a missing key", err, ossclient.ErrNotFound)
	})
}

// TestGetResumesDroppedConnection: a body cut off three times in a row is
// resumed from the byte reached and reads right (four GETs, the last three
// If-Match the first answer's ETag); a body cut more often than
// ReadResumes fails with an error, never a short read; a version changed
// between the cut and the resume is ErrPreconditionFailed.
func TestGetResumesDroppedConnection(t *testing.T) {
	srv := startServer(t, osstest.Options{})
	c := newClient(t, srv, 4, "", noBackoff, func(c *ossclient.Config) { c.ReadResumes = 3 })
	data := make([]byte, 1<<20)
	rand.Read(data)
	put(t, c, "big", string(data), ossclient.PutOptions{})

	for _, tc := range []struct {
		name   string
		off, n int64
	}{{"whole", 0, -1}, {"range", 1000, 500 << 10}} {
		srv.ResetCounts()
		srv.AddFault(osstest.Fault{Op: "GetObject", DropAfter: 65536, Times: 3})
		rc, err := c.Read(context.Background(), "big", tc.off, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		end := int64(len(data))
		if tc.n > 0 {
			end = tc.off + tc.n
		}
		if err != nil || !bytes.Equal(got, data[tc.off:end]) {
			t.Fatalf("%s: %d bytes, %v; want %d right bytes", tc.name, len(got), err, end-tc.off)
		}
		if n := srv.Count("GetObject"); n != 4 {
			t.Errorf("%s: %d GetObject requests, want 4 (three drops fired, each resumed once)", tc.name, n)
		}
	}

	srv.ResetCounts()
	srv.AddFault(osstest.Fault{Op: "GetObject", DropAfter: 1000, Times: 4})
	_, got, err := getAll(t, c, "big", 0, -1, ossclient.ReadOptions{})
	if err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("four drops in a row with ReadResumes 3: %d bytes, err %v; want an error", len(got), err)
	}
	if n := srv.Count("GetObject"); n != 4 {
		t.Errorf("%d GetObject requests, want 4 (the first and three resumes)", n)
	}

	srv.ClearFaults()
	srv.AddFault(osstest.Fault{Op: "GetObject", DropAfter: 1000, Times: 1})
	b, err := c.Get(context.Background(), "big", 0, -1, ossclient.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	head := make([]byte, 1000)
	if _, err := io.ReadFull(b, head); err != nil {
		t.Fatal(err)
	}
	put(t, c, "big", "replaced", ossclient.PutOptions{})
	_, err = io.ReadAll(b)
	wantKind(t, "resume after the object changed", err, ossclient.ErrPreconditionFailed)
}

// TestGetPastEndMetaUnknown: a Get past the end (OSS answers 416, which
// carries no user metadata) reports the Object as one whose metadata is
// not known, as the Object contract asks of a nil Meta: a caller that
// learns attributes from a GET's answer must not take the missing metadata
// for "none stored".
func TestGetPastEndMetaUnknown(t *testing.T) {
	srv := startServer(t, osstest.Options{})
	c := newClient(t, srv, 4, "")
	put(t, c, "empty", "", ossclient.PutOptions{Meta: map[string]string{"mode": "33152"}})
	put(t, c, "f", "0123", ossclient.PutOptions{Meta: map[string]string{"mode": "33152"}})
	for _, key := range []string{"empty", "f"} {
		srv.ResetCounts()
		b, data, err := getAll(t, c, key, 8, 4, ossclient.ReadOptions{})
		if err != nil || len(data) != 0 {
			t.Fatalf("Get(%s) past the end: %q, %v", key, data, err)
		}
		if n := srv.Count("GetObject"); n != 1 {
			t.Fatalf("Get(%s): %d GetObject requests, want 1", key, n)
		}
		if b.Object.Meta == nil && !b.Object.MetaUnknown {
			t.Errorf("Get(%s) past the end: Object %+v has nil Meta with MetaUnknown false", key, b.Object)
		}
	}
}
