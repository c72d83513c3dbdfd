package ossclient_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestRefreshOnExpiredToken: with a refreshable source, a request that OSS
// rejects because the STS token expired is signed again with the key the
// source hands out next and succeeds; a source that keeps handing out the
// expired key fails the request with access denied, never a hang.
func TestRefreshOnExpiredToken(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		gen1 := osstest.Credential{AccessKeyID: "sts-1", AccessKeySecret: "secret-1", SecurityToken: "token-1"}
		gen2 := osstest.Credential{AccessKeyID: "sts-2", AccessKeySecret: "secret-2", SecurityToken: "token-2"}
		srv := startServer(t, osstest.Options{Credentials: []osstest.Credential{gen1}})
		var current atomic.Pointer[osstest.Credential]
		current.Store(&gen1)
		var calls atomic.Int32
		c := newClient(t, srv, sig, "", func(cfg *ossclient.Config) {
			cfg.Credentials = ossclient.Credentials{Refresh: func(context.Context) (ossclient.Key, error) {
				calls.Add(1)
				k := current.Load()
				return ossclient.Key{ID: k.AccessKeyID, Secret: k.AccessKeySecret, Token: k.SecurityToken}, nil
			}}
		})
		ctx := context.Background()
		put(t, c, "a", "1", ossclient.PutOptions{})
		put(t, c, "b", "2", ossclient.PutOptions{})
		if n := calls.Load(); n != 1 {
			t.Fatalf("the source was asked %d times for two requests with a valid key, want 1", n)
		}

		srv.ExpireCredential(gen1.AccessKeyID)
		srv.SetCredential(gen2)
		current.Store(&gen2)
		put(t, c, "c", "3", ossclient.PutOptions{})
		if n := srv.FaultCounts()["SecurityTokenExpired"]; n != 1 {
			t.Errorf("%d requests rejected as expired, want 1", n)
		}
		if n := calls.Load(); n != 2 {
			t.Errorf("the source was asked %d times, want 2 (once more after the rejection)", n)
		}

		// A source that cannot renew: the error, after the attempts.
		srv.ExpireCredential(gen2.AccessKeyID)
		_, err := c.Stat(ctx, "a")
		if !errors.Is(err, ossclient.ErrAccessDenied) || !strings.Contains(err.Error(), "SecurityTokenExpired") {
			t.Errorf("Stat with a key the source cannot renew: %v, want access denied (SecurityTokenExpired)", err)
		}
	})
}
