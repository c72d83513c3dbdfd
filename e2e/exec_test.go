package e2e

import (
	"strings"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
)

// TestExecuteBitFromMetadata: a script whose execute bit lives only in
// x-oss-meta-mode runs even when its directory was listed first (listings
// carry no metadata: the entry's attributes are not cached by the kernel),
// with one HEAD: the kernel asks for the attributes, and that getattr
// fetches the metadata.
func TestExecuteBitFromMetadata(t *testing.T) {
	e := newEnv(t, config{})
	script := "#!/bin/sh\necho ran\n"
	if _, err := e.raw.Put(e.ctx(), "bin/run.sh", strings.NewReader(script),
		ossclient.PutOptions{Meta: map[string]string{"mode": "33261"}}); err != nil { // 0100755
		t.Fatal(err)
	}
	e.sh(`ls bin >/dev/null`) // the listing is seen first
	e.srv.ResetCounts()
	if out := e.sh(`./bin/run.sh`); out != "ran\n" {
		t.Fatalf("running the script: %q", out)
	}
	if n := e.srv.Count("HeadObject"); n != 1 {
		t.Errorf("%d HEAD requests to learn the mode, want 1", n)
	}
	if out := e.sh(`stat -c %a bin/run.sh`); out != "755\n" {
		t.Errorf("mode after the run = %q, want 755", out)
	}
	e.srv.ResetCounts()
	e.sh(`./bin/run.sh && ls -l bin >/dev/null`)
	if n := e.srv.Count("HeadObject"); n != 0 {
		t.Errorf("running it again made %d HEAD requests, want 0", n)
	}
}
