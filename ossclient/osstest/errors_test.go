package osstest_test

import (
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

type wireError struct {
	Code, Message, RequestId, HostId, EC string
}

// TestErrorWireForm pins the error shape below the SDK: GET errors carry the
// XML body with all five fields; HEAD errors carry no body but x-oss-err
// (the same XML, base64) and x-oss-ec; every response has x-oss-request-id,
// and the XML's RequestId is that header.
func TestErrorWireForm(t *testing.T) {
	srv := start(t, osstest.Options{})
	put(t, newClient(srv), "present", []byte("x"), nil)
	do := func(method, key string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, srv.Endpoint()+"/"+bkt+"/"+key, nil)
		v1Sign(req, "/"+bkt+"/"+key, osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, body
	}
	check := func(what string, resp *http.Response, raw []byte) {
		t.Helper()
		var e wireError
		if err := xml.Unmarshal(raw, &e); err != nil {
			t.Fatalf("%s: not XML: %v %q", what, err, raw)
		}
		id := resp.Header.Get("x-oss-request-id")
		if resp.StatusCode != 404 || e.Code != "NoSuchKey" || e.Message == "" || e.HostId == "" || id == "" || e.RequestId != id ||
			e.EC == "" || resp.Header.Get("x-oss-ec") != e.EC {
			t.Fatalf("%s: status %d, error %+v, request id header %q, x-oss-ec %q", what, resp.StatusCode, e, id, resp.Header.Get("x-oss-ec"))
		}
	}
	resp, body := do(http.MethodGet, "missing")
	check("GET", resp, body)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("GET error content type %q", resp.Header.Get("Content-Type"))
	}
	resp, body = do(http.MethodHead, "missing")
	if len(body) != 0 {
		t.Fatalf("HEAD error has a body: %q", body)
	}
	decoded, err := base64.StdEncoding.DecodeString(resp.Header.Get("x-oss-err"))
	if err != nil || len(decoded) == 0 {
		t.Fatalf("x-oss-err %q: %v", resp.Header.Get("x-oss-err"), err)
	}
	check("HEAD", resp, decoded)
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		if resp, _ := do(m, "present"); resp.StatusCode != 200 || resp.Header.Get("x-oss-request-id") == "" || resp.Header.Get("x-oss-err") != "" {
			t.Fatalf("%s success: %d, headers %v", m, resp.StatusCode, resp.Header)
		}
	}
}
