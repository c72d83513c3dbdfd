package ossclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

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

const (
	secretID     = "LTAIknownid"
	secretKey    = "known-secret-XYZZY-0123456789"
	secretToken  = "sts-token-PLUGH-9876543210"
	secretWrong  = "wrong-secret-QWERTY-555"
	stdioCanary  = "canary-from-the-log-package"
	stderrCanary = "canary-written-to-stderr"
)

// useDebugDefaultLogger makes slog.Default a debug-level handler on stderr
// (and so the log package's output too) until the test ends.
func useDebugDefaultLogger(t *testing.T) {
	oldSlog, oldOut, oldFlags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() {
		slog.SetDefault(oldSlog)
		log.SetOutput(oldOut)
		log.SetFlags(oldFlags)
	})
}

// TestNoSecretInLogsOrErrors runs a session (successes and failures, with a
// known secret and session token) and checks that neither the secrets nor a
// signature appears anywhere: the Config.Logger at debug level, slog.Default
// at debug level, everything written to stdout and stderr (the log package,
// the SDK's own logger with OSS_SDK_LOG_LEVEL=debug), every error down its
// Unwrap chain, and the Config and Client printed with %v, %+v and %#v.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		t.Setenv("OSS_SDK_LOG_LEVEL", "debug")
		useDebugDefaultLogger(t)
		srv := startServer(t, osstest.Options{Credentials: []osstest.Credential{
			{AccessKeyID: secretID, AccessKeySecret: secretKey, SecurityToken: secretToken}}})
		var logs syncBuffer
		logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

		stop := captureStdio(t)
		log.Print(stdioCanary)
		fmt.Fprintln(os.Stderr, stderrCanary)
		errs, printed := secretSession(t, srv, sig, logger)
		stdio := stop()

		if len(errs) < 8 {
			t.Fatalf("expected the failure cases to fail, got %d errors: %v", len(errs), errs)
		}
		if !strings.Contains(stdio, stdioCanary) || !strings.Contains(stdio, stderrCanary) {
			t.Fatalf("stdio capture missed the canaries: %q", stdio)
		}
		// The client with Logger nil logs to slog.Default, captured above.
		if !strings.Contains(stdio, `msg="oss request" op=HeadObject`) || !strings.Contains(logs.String(), `"op":"UploadPart"`) ||
			!strings.Contains(logs.String(), `"requestId"`) {
			t.Errorf("debug logs lack per-request lines:\nConfig.Logger:\n%s\nstdio:\n%s", logs.String(), stdio)
		}
		var all strings.Builder
		all.WriteString(logs.String())
		all.WriteString(stdio)
		all.WriteString(printed)
		for _, err := range errs {
			for e := err; e != nil; e = errors.Unwrap(e) {
				fmt.Fprintf(&all, "%v\n%+v\n%s\n", e, e, e)
			}
		}
		text := all.String()
		for _, s := range []string{secretKey, secretToken, secretWrong, "Authorization", "Signature=", "OSS4-HMAC-SHA256 Credential", "x-oss-security-token"} {
			if i := strings.Index(text, s); i >= 0 {
				t.Errorf("%q appears in logs, output or errors: ...%s...", s, text[max(0, i-200):min(len(text), i+100)])
			}
		}
	})
}

// secretSession drives every Bucket method, successes and failures, with a
// good and a bad secret, and returns the errors and the printed forms of
// the configs and clients. It calls no t.Log (stdio is being captured).
func secretSession(t *testing.T, srv *osstest.Server, sig int, logger *slog.Logger) (errs []error, printed string) {
	ctx := context.Background()
	var cfgs []ossclient.Config
	withKey := func(s string, l *slog.Logger) func(*ossclient.Config) {
		return func(c *ossclient.Config) {
			c.Credentials = ossclient.Credentials{AccessKeyID: secretID, AccessKeySecret: s, SessionToken: secretToken}
			c.Logger = l
			c.MaxAttempts = 2
			cfgs = append(cfgs, *c)
		}
	}
	c := newClient(t, srv, sig, "pre", withKey(secretKey, logger))
	bad := newClient(t, srv, sig, "pre", withKey(secretWrong, nil)) // logs to slog.Default
	note := func(_ any, err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	big := func() *onlyReader { return &onlyReader{bytes.NewReader(randomBytes(2*partSize + 1))} }
	for _, b := range []*ossclient.Client{c, bad} {
		note(nil, b.Check(ctx))
		note(b.Put(ctx, "a", strings.NewReader("data"), ossclient.PutOptions{Meta: map[string]string{"x": "y"}}))
		note(b.Put(ctx, "big", big(), ossclient.PutOptions{}))
		note(b.Stat(ctx, "a"))
		note(b.Read(ctx, "a", 1, 2))
		note(b.List(ctx, "", ossclient.ListOptions{}))
		note(b.Copy(ctx, "a", "b", ossclient.CopyOptions{}))
		note(nil, b.PutSymlink(ctx, "ln", "a b+c", ossclient.SymlinkOptions{}))
		note(b.GetSymlink(ctx, "ln"))
		note(nil, b.Delete(ctx, "b"))
		note(nil, b.DeleteMany(ctx, []string{"a", "big"}))
		note(b.Stat(ctx, "missing"))
		note(b.GetSymlink(ctx, "ln-missing"))
		note(b.Put(ctx, "ln", strings.NewReader("x"), ossclient.PutOptions{ForbidOverwrite: true}))
	}
	srv.AddFault(osstest.Fault{Op: "UploadPart", Status: 500, Code: "InternalError", Times: 100})
	note(c.Put(ctx, "big3", big(), ossclient.PutOptions{}))

	var p strings.Builder
	for _, v := range []any{c, bad, cfgs[0], cfgs[1], &cfgs[0], cfgs[1].Credentials} {
		fmt.Fprintf(&p, "%v\n%+v\n%#v\n%s\n", v, v, v, v)
		logger.Info("printing", "value", v)
		slog.Info("printing", "value", v)
	}
	return errs, p.String()
}
