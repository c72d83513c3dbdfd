package writeback

import (
	"context"
	"errors"
	"io"
	"log/slog"
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

func newServerBackend(t *testing.T) (*serverBackend, *osstest.Server) {
	t.Helper()
	srv, err := osstest.Start(osstest.Options{Buckets: []string{"wb-test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cl, err := ossclient.New(ossclient.Config{
		Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: "wb-test",
		Credentials: ossclient.Credentials{
			Source:          ossclient.SourceStatic,
			AccessKeyID:     osstest.DefaultAccessKeyID,
			AccessKeySecret: osstest.DefaultAccessKeySecret,
		},
		MaxAttempts: 1,
		Logger:      slog.New(slog.DiscardHandler),
	})
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
