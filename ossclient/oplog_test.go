package ossclient_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// loggedOps counts the op= of the "oss request" debug lines in logs.
func loggedOps(logs string) map[string]int64 {
	ops := map[string]int64{}
	for _, line := range strings.Split(logs, "\n") {
		if _, rest, ok := strings.Cut(line, " op="); ok && strings.Contains(line, `msg="oss request"`) {
			op, _, _ := strings.Cut(rest, " ")
			ops[op]++
		}
	}
	return ops
}

// TestLoggedOpsAreServerOps: the client's request log names each request
// as the server counts it (one opname package names both), in path style,
// bucket-in-host and CNAME addressing.
func TestLoggedOpsAreServerOps(t *testing.T) {
	ctx := context.Background()
	for _, style := range []string{"path", "cname"} {
		t.Run(style, func(t *testing.T) {
			srv := startServer(t, osstest.Options{})
			endpoint := srv.Endpoint()
			if style == "cname" {
				port := serveWrapped(t, srv, hostIs(bucket+".cname.example"), nil)
				endpoint = fmt.Sprintf("http://localhost:%d", port)
			}
			var logs syncBuffer
			c := newClient(t, srv, 4, "", func(c *ossclient.Config) {
				c.Endpoint, c.CNAME, c.Logger = endpoint, style == "cname", debugLogger(&logs)
			})
			put(t, c, "a", "small", ossclient.PutOptions{})
			put(t, c, "big", strings.Repeat("x", 300<<10), ossclient.PutOptions{}) // multipart
			read(t, c, "a", 0, -1)
			if _, err := c.Stat(ctx, "a"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.List(ctx, "", ossclient.ListOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Copy(ctx, "a", "b", ossclient.CopyOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := c.PutSymlink(ctx, "ln", "a", ossclient.SymlinkOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetSymlink(ctx, "ln"); err != nil {
				t.Fatal(err)
			}
			if err := c.Delete(ctx, "b"); err != nil {
				t.Fatal(err)
			}
			if err := c.DeleteMany(ctx, []string{"a", "ln"}); err != nil {
				t.Fatal(err)
			}
			got, want := loggedOps(logs.String()), srv.Counts()
			if !maps.Equal(got, want) {
				t.Errorf("logged ops %v\nserver counts %v", got, want)
			}
			if want["UploadPart"] == 0 || want["DeleteMultipleObjects"] != 1 || want["GetSymlink"] != 1 {
				t.Errorf("the scenario did not run as meant: %v", want)
			}
		})
	}
}

// hostIs makes every request arrive with host as its Host (the DNS of a
// CNAME endpoint).
func hostIs(host string) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Host = host
			h.ServeHTTP(w, r)
		})
	}
}
