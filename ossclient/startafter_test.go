package ossclient_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestListStartAfter: StartAfter goes on from a page already held, also
// under a mount prefix; a common prefix equal to StartAfter may come again.
func TestListStartAfter(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, osstest.Options{})
	raw := newClient(t, srv, 4, "")
	var keys []string
	for i := range 1200 {
		keys = append(keys, fmt.Sprintf("pre/d/k%04d", i))
	}
	keys = append(keys, "pre/d/sub/x", "pre/d/sub/y", "pre/d/zz")
	putAll(t, raw, keys)
	c := newClient(t, srv, 4, "pre")

	first, err := c.List(ctx, "d/", ossclient.ListOptions{Limit: 1000})
	if err != nil || len(first.Objects) != 1000 {
		t.Fatalf("first page: %d objects, %v", len(first.Objects), err)
	}
	srv.ResetCounts()
	rest, err := c.List(ctx, "d/", ossclient.ListOptions{StartAfter: first.Objects[999].Key})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Objects) != 201 || rest.Objects[0].Key != "d/k1000" || rest.Objects[200].Key != "d/zz" {
		t.Errorf("rest: %d objects, first %+v", len(rest.Objects), rest.Objects[0])
	}
	if len(rest.Prefixes) != 1 || rest.Prefixes[0] != "d/sub/" {
		t.Errorf("rest prefixes: %v", rest.Prefixes)
	}
	if n := srv.Count("ListObjectsV2"); n != 1 {
		t.Errorf("the rest took %d requests, want 1", n)
	}
	again, err := c.List(ctx, "d/", ossclient.ListOptions{StartAfter: "d/sub/"})
	if err != nil || len(again.Objects) != 1 || again.Objects[0].Key != "d/zz" {
		t.Errorf("after the common prefix: %+v, %v", again, err)
	}
}
