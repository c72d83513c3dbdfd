package writeback

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// serverBackend is the local OSS server through the real SDK client.
type serverBackend struct {
	*ossclient.Client
	t *testing.T
}

func newServerBackend(t *testing.T, mods ...func(*ossclient.Config)) (*serverBackend, *osstest.Server) {
	t.Helper()
	srv, err := osstest.Start(osstest.Options{Buckets: []string{"wb-test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := ossclient.Config{
		Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: "wb-test",
		Credentials: ossclient.Credentials{
			Source:          ossclient.SourceStatic,
			AccessKeyID:     osstest.DefaultAccessKeyID,
			AccessKeySecret: osstest.DefaultAccessKeySecret,
		},
		MaxAttempts: 1,
		Logger:      slog.New(slog.DiscardHandler),
	}
	for _, m := range mods {
		m(&cfg)
	}
	cl, err := ossclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &serverBackend{Client: cl, t: t}, srv
}

func (b *serverBackend) object(key string) ([]byte, bool) {
	r, err := b.Read(context.Background(), key, 0, -1)
	if errors.Is(err, ossclient.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		b.t.Fatalf("get %s: %v", key, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		b.t.Fatalf("get %s: %v", key, err)
	}
	return data, true
}

func (b *serverBackend) seed(key, data string) {
	if _, err := b.Put(context.Background(), key, strings.NewReader(data), ossclient.PutOptions{}); err != nil {
		b.t.Fatalf("put %s: %v", key, err)
	}
}

// TestStatesOnServer runs the state table (but its fake faults) against
// the local OSS server through the real SDK.
func TestStatesOnServer(t *testing.T) {
	for _, c := range stateCases {
		if c.fakeOnly {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			be, _ := newServerBackend(t)
			runCase(t, be, c)
		})
	}
}

// TestInterruptedReadBackOnServer: the read-back GET stalls on the server;
// the caller is interrupted (its ctx ends) and gets its error at once,
// the GET goes on detached and completes, and the file carries on.
func TestInterruptedReadBackOnServer(t *testing.T) {
	be, srv := newServerBackend(t)
	e := newTenv(t, be, false, true)
	e.run(step{do: "write", data: d16})
	srv.ResetCounts()
	srv.AddFault(osstest.Fault{Op: "GetObject", Stall: 2 * time.Second, Times: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.f.WriteAt(ctx, []byte("XY"), 0)
		done <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); srv.Count("GetObject") == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the read-back GET never reached the server")
		}
		time.Sleep(time.Millisecond) // polls the server's counter
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted write: %v", err)
	}
	e.run(step{do: "write", data: "XY", state: "Staged"}) // waits for the run in progress
	e.run(step{do: "flush"})
	if got, _ := be.object("k"); string(got) != "XY"+d16[2:] {
		t.Errorf("object %q", got)
	}
	if n := srv.Count("GetObject"); n != 2 { // the read-back, and object()
		t.Errorf("%d GETs, want 2: the stalled read-back was not retried", n)
	}
	if e.f.Lost() != nil || e.logs.saying("lost") != 0 {
		t.Error("an interrupt was taken for lost data")
	}
}

// TestReadBackFailureOnServer: a read-back that fails (503) fails the
// write that needed it, and the next write reads back again: the streamed
// bytes are complete in OSS, nothing is lost or logged as lost.
func TestReadBackFailureOnServer(t *testing.T) {
	be, srv := newServerBackend(t)
	e := newTenv(t, be, false, true)
	e.run(step{do: "write", data: d16})
	remove := srv.AddFault(osstest.Fault{Op: "GetObject", Status: 503})
	e.run(step{do: "write", data: "XY", err: true, state: "Uploaded"})
	remove()
	e.run(step{do: "write", data: "XY", state: "Staged"})
	e.run(step{do: "flush"})
	if got, _ := be.object("k"); string(got) != "XY"+d16[2:] {
		t.Errorf("object %q", got)
	}
	if e.logs.saying("lost") != 0 {
		t.Error("a failed read-back was logged as lost")
	}
}

// TestStreamStoresLastWriteMtime: a streamed file's metadata is what the
// writes left (the mtime of the last one, here a later second than the
// first's), at no extra request when the upload is one PutObject (it
// takes the metadata after the last write), and at one CopyObject when a
// multipart upload sent it earlier (at Initiate, after its first part)
// and it changed since; none when it did not change.
func TestStreamStoresLastWriteMtime(t *testing.T) {
	const part = 100 << 10 // the smallest PartSize
	for _, tc := range []struct {
		name          string
		first, second int
		changed       bool
		puts, inits   int64
		copies        int64
	}{
		{"PutObject", 10, 10, true, 1, 0, 0},
		{"multipart", part + 20<<10, 10 << 10, true, 0, 1, 1},
		{"multipart, same second", part + 20<<10, 10 << 10, false, 0, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be, srv := newServerBackend(t, func(c *ossclient.Config) { c.PartSize = part })
			e := newTenv(t, be, false, true)
			e.host.set(func(h *fakeHost) { h.meta = map[string]string{"mode": "1", "mtime": "1795614074"} })
			ctx := context.Background()
			srv.ResetCounts()
			if _, err := e.f.WriteAt(ctx, make([]byte, tc.first), 0); err != nil {
				t.Fatal(err)
			}
			if tc.changed { // the second write's touch, a second later
				e.host.set(func(h *fakeHost) { h.meta["mtime"] = "1795614075" })
			}
			if _, err := e.f.WriteAt(ctx, make([]byte, tc.second), int64(tc.first)); err != nil {
				t.Fatal(err)
			}
			if err := e.f.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			o, err := be.Stat(ctx, "k", ossclient.WithMeta)
			if err != nil {
				t.Fatal(err)
			}
			want := e.host.Meta()["mtime"]
			if o.Meta["mtime"] != want || o.Size != int64(tc.first+tc.second) {
				t.Errorf("stored mtime %q, size %d; want the last write's %s, %d bytes", o.Meta["mtime"], o.Size, want, tc.first+tc.second)
			}
			got := []int64{srv.Count("PutObject"), srv.Count("InitiateMultipartUpload"), srv.Count("CopyObject")}
			if want := []int64{tc.puts, tc.inits, tc.copies}; !slices.Equal(got, want) {
				t.Errorf("PutObject, InitiateMultipartUpload, CopyObject = %v, want %v", got, want)
			}
		})
	}
}
