package ossclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

func TestWrongCredentials(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv := startServer(t, osstest.Options{})
		good := newClient(t, srv, sig, "")
		put(t, good, "k", "v", ossclient.PutOptions{})

		badSecret := newClient(t, srv, sig, "", func(c *ossclient.Config) { c.Credentials.AccessKeySecret = "not-the-secret" })
		_, err := badSecret.Stat(ctx, "k")
		wantKind(t, "Stat with a wrong secret", err, ossclient.ErrAccessDenied)
		_, err = badSecret.Put(ctx, "k2", strings.NewReader("x"), ossclient.PutOptions{})
		wantKind(t, "Put with a wrong secret", err, ossclient.ErrAccessDenied)
		var oe *ossclient.Error
		if errors.As(err, &oe) && (oe.Status != 403 || oe.Code != "SignatureDoesNotMatch") {
			t.Errorf("Put with a wrong secret: %+v", oe)
		}
		err = badSecret.Check(ctx)
		if err == nil || !strings.Contains(err.Error(), "secret") || !errors.Is(err, ossclient.ErrAccessDenied) {
			t.Errorf("Check with a wrong secret: %v", err)
		}

		badID := newClient(t, srv, sig, "", func(c *ossclient.Config) { c.Credentials.AccessKeyID = "no-such-id" })
		err = badID.Check(ctx)
		if err == nil || !strings.Contains(err.Error(), "does not know the access key id") {
			t.Errorf("Check with an unknown id: %v", err)
		}
		_, err = badID.GetSymlink(ctx, "k")
		wantKind(t, "GetSymlink with an unknown id", err, ossclient.ErrAccessDenied)
	})
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, osstest.Options{})
	if err := newClient(t, srv, 4, "some/prefix").Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}
	err := newClient(t, srv, 4, "", func(c *ossclient.Config) { c.Bucket = "no-such-bucket" }).Check(ctx)
	if want := `bucket "no-such-bucket" does not exist at endpoint ` + srv.Endpoint(); err == nil || err.Error() != want {
		t.Errorf("Check of a missing bucket: %v, want %q", err, want)
	}
	err = newClient(t, srv, 4, "", func(c *ossclient.Config) { c.Region = "cn-elsewhere" }).Check(ctx)
	if err == nil || !strings.Contains(err.Error(), "region") {
		t.Errorf("Check with a wrong region: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	c := newClient(t, srv, 4, "", func(c *ossclient.Config) { c.Endpoint = closed; c.MaxAttempts = 1 })
	err = c.Check(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot reach endpoint "+closed) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Check of a closed endpoint: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer // GUARDED_BY(mu)
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestNoSecretInLogsOrErrors runs a session (successes and failures, with a
// known secret and session token) with debug logging captured, and checks
// that neither the secret nor the token nor a signature appears in the log
// or in any error string, down the whole Unwrap chain.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	const (
		id     = "LTAIknownid"
		secret = "known-secret-XYZZY-0123456789"
		token  = "sts-token-PLUGH-9876543210"
		wrong  = "wrong-secret-QWERTY-555"
	)
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv := startServer(t, osstest.Options{Credentials: []osstest.Credential{{AccessKeyID: id, AccessKeySecret: secret, SecurityToken: token}}})
		var logs syncBuffer
		logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		withKey := func(s string) func(*ossclient.Config) {
			return func(c *ossclient.Config) {
				c.Credentials = ossclient.Credentials{AccessKeyID: id, AccessKeySecret: s, SessionToken: token}
				c.Logger = logger
				c.MaxAttempts = 2
			}
		}
		c := newClient(t, srv, sig, "pre", withKey(secret))
		bad := newClient(t, srv, sig, "pre", withKey(wrong))
		var errs []error
		note := func(_ any, err error) {
			if err != nil {
				errs = append(errs, err)
			}
		}
		note(nil, c.Check(ctx))
		note(c.Put(ctx, "a", strings.NewReader("data"), ossclient.PutOptions{Meta: map[string]string{"x": "y"}}))
		note(c.Put(ctx, "big", onlyReader{bytes.NewReader(randomBytes(2*partSize + 1))}, ossclient.PutOptions{}))
		note(c.Stat(ctx, "a"))
		note(c.Read(ctx, "a", 1, 2))
		note(c.List(ctx, "", ossclient.ListOptions{}))
		note(c.Copy(ctx, "a", "b", ossclient.CopyOptions{}))
		note(nil, c.PutSymlink(ctx, "ln", "a b+c", ossclient.SymlinkOptions{}))
		note(c.GetSymlink(ctx, "ln"))
		note(nil, c.Delete(ctx, "b"))
		note(nil, c.DeleteMany(ctx, []string{"a", "big"}))
		// Failures.
		note(c.Stat(ctx, "missing"))
		note(c.GetSymlink(ctx, "ln-missing"))
		note(c.Put(ctx, "ln", strings.NewReader("x"), ossclient.PutOptions{ForbidOverwrite: true}))
		note(nil, bad.Check(ctx))
		note(bad.Stat(ctx, "a"))
		note(bad.Put(ctx, "big2", onlyReader{bytes.NewReader(randomBytes(2*partSize + 1))}, ossclient.PutOptions{}))
		srv.AddFault(osstest.Fault{Op: "UploadPart", Status: 500, Code: "InternalError", Times: 100})
		note(c.Put(ctx, "big3", onlyReader{bytes.NewReader(randomBytes(2*partSize + 1))}, ossclient.PutOptions{}))
		if len(errs) < 6 {
			t.Fatalf("expected the failure cases to fail, got %d errors: %v", len(errs), errs)
		}

		var all strings.Builder
		all.WriteString(logs.String())
		for _, err := range errs {
			for e := err; e != nil; e = errors.Unwrap(e) {
				fmt.Fprintf(&all, "%v\n%+v\n", e, e)
			}
		}
		text := all.String()
		if !strings.Contains(logs.String(), `"op":"UploadPart"`) || !strings.Contains(logs.String(), `"requestId"`) {
			t.Errorf("debug log lacks per-request lines:\n%s", logs.String())
		}
		for _, s := range []string{secret, token, wrong, "Authorization", "Signature=", "OSS4-HMAC-SHA256 Credential"} {
			if strings.Contains(text, s) {
				i := strings.Index(text, s)
				t.Errorf("%q appears in logs or errors: ...%s...", s, text[max(0, i-200):min(len(text), i+100)])
			}
		}
	})
}
