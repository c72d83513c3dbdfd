package ossclient_test

import (
	"context"
	"errors"
	"net"
	"strings"
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
