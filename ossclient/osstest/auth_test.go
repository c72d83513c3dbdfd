package osstest_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

func TestAuthentication(t *testing.T) {
	srv := start(t, osstest.Options{Credentials: []osstest.Credential{
		{AccessKeyID: "id-one", AccessKeySecret: "secret-one"},
		{AccessKeyID: "id-two", AccessKeySecret: "secret-two"},
		{AccessKeyID: "sts-id", AccessKeySecret: "sts-secret", SecurityToken: "token-123"},
	}})
	head := func(c *oss.Client) error {
		_, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("missing")})
		return err
	}
	list := func(c *oss.Client) error {
		_, err := c.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(bkt), Prefix: oss.Ptr("a b+c")})
		return err
	}
	signings(t, func(t *testing.T, extra ...clientOpt) {
		mk := func(o ...clientOpt) *oss.Client { return newClient(srv, append(append(o, noRetry), extra...)...) }
		for _, c := range []*oss.Client{mk(withCreds("id-one", "secret-one")), mk(withCreds("id-two", "secret-two")),
			mk(withCreds("sts-id", "sts-secret", "token-123"))} {
			if err := list(c); err != nil {
				t.Fatalf("good credentials rejected: %v", err)
			}
			wantCode(t, head(c), 404, "NoSuchKey")
		}
		wrong := mk(withCreds("id-one", "secret-two"))
		wantCode(t, list(wrong), 403, "SignatureDoesNotMatch")
		wantCode(t, head(wrong), 403, "SignatureDoesNotMatch")
		_, err := wrong.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("x"), Body: strings.NewReader("x")})
		wantCode(t, err, 403, "SignatureDoesNotMatch")
		wantCode(t, list(mk(withCreds("nobody", "secret-one"))), 403, "InvalidAccessKeyId")
		wantCode(t, list(mk(withCreds("sts-id", "sts-secret"))), 403, "InvalidSecurityToken")
		wantCode(t, list(mk(withCreds("sts-id", "sts-secret", "other"))), 403, "InvalidSecurityToken")
		anon := mk(func(c *oss.Config) { c.WithCredentialsProvider(credentials.NewAnonymousCredentialsProvider()) })
		wantCode(t, list(anon), 403, "AccessDenied")

		// A request signed 20 minutes in the past (the SDK signs with the
		// time in x-oss-date when the caller sets one).
		old := time.Now().Add(-20 * time.Minute).UTC().Format(http.TimeFormat)
		_, err = mk(withCreds("id-one", "secret-one")).InvokeOperation(ctx, &oss.OperationInput{OpName: "GetObject", Method: "GET",
			Bucket: oss.Ptr(bkt), Key: oss.Ptr("k"), Headers: map[string]string{"x-oss-date": old}})
		wantCode(t, err, 403, "RequestTimeTooSkewed")
	})
	// V4 scopes the signature to the region; V1 does not.
	other := func(c *oss.Config) { c.WithRegion("cn-beijing") }
	wantCode(t, list(newClient(srv, withCreds("id-one", "secret-one"), other, noRetry)), 400, "InvalidArgument")
	if err := list(newClient(srv, withCreds("id-one", "secret-one"), other, v1)); err != nil {
		t.Fatalf("V1 with another region: %v", err)
	}
}

// TestSkewWithinLimitAccepted: 14 minutes either way is inside the 15
// minutes OSS allows, with either signature.
func TestSkewWithinLimitAccepted(t *testing.T) {
	srv := start(t, osstest.Options{})
	put(t, newClient(srv), "k", []byte("v"), nil)
	signings(t, func(t *testing.T, extra ...clientOpt) {
		c := newClient(srv, append(extra, noRetry)...)
		for _, d := range []time.Duration{-14 * time.Minute, 14 * time.Minute} {
			date := time.Now().Add(d).UTC().Format(http.TimeFormat)
			out, err := c.InvokeOperation(ctx, &oss.OperationInput{OpName: "GetObject", Method: "GET",
				Bucket: oss.Ptr(bkt), Key: oss.Ptr("k"), Headers: map[string]string{"x-oss-date": date}})
			if err != nil {
				t.Fatalf("skew %v rejected: %v", d, err)
			}
			out.Body.Close()
		}
	})
}

// TestSkewErrorCarriesServerTime: the SDK retries RequestTimeTooSkewed after
// correcting its clock from the error's Date header; the server must send
// one. (Checked by the error carrying ServerTime and a parsable Date.)
func TestSkewErrorCarriesServerTime(t *testing.T) {
	srv := start(t, osstest.Options{})
	old := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	_, err := newClient(srv, noRetry).InvokeOperation(ctx, &oss.OperationInput{OpName: "GetObject", Method: "GET",
		Bucket: oss.Ptr(bkt), Key: oss.Ptr("k"), Headers: map[string]string{"x-oss-date": old}})
	se := svcErr(t, err)
	if se.Code != "RequestTimeTooSkewed" || !strings.Contains(string(se.Snapshot), "<ServerTime>") {
		t.Fatalf("%s: %s", se.Code, se.Snapshot)
	}
	if d := time.Since(se.Timestamp); d > time.Minute || d < -time.Minute {
		t.Fatalf("error Date header %v is not the server clock", se.Timestamp)
	}
}

// v1Sign is an independent, hand-written V1 signer (the second client).
func v1Sign(req *http.Request, resource, id, secret string) {
	date := time.Now().UTC().Format(http.TimeFormat)
	req.Header.Set("Date", date)
	var oh []string
	for k := range req.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-oss-") {
			oh = append(oh, lk+":"+strings.TrimSpace(req.Header.Get(k))+"\n")
		}
	}
	// sort the x-oss- lines
	for i := 1; i < len(oh); i++ {
		for j := i; j > 0 && oh[j] < oh[j-1]; j-- {
			oh[j], oh[j-1] = oh[j-1], oh[j]
		}
	}
	sts := req.Method + "\n" + req.Header.Get("Content-MD5") + "\n" + req.Header.Get("Content-Type") + "\n" + date + "\n" + strings.Join(oh, "") + resource
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(sts))
	req.Header.Set("Authorization", "OSS "+id+":"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
}

// TestHandWrittenV1Client drives the server with plain net/http and a
// hand-written V1 signature: a second client, independent of the SDK.
func TestHandWrittenV1Client(t *testing.T) {
	srv := start(t, osstest.Options{})
	key := "hand/written key+1"
	url := srv.Endpoint() + "/" + bkt + "/hand/written%20key%2B1"
	req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader("by hand"))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("x-oss-meta-Author", "me")
	v1Sign(req, "/"+bkt+"/"+key, osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("x-oss-request-id") == "" {
		t.Fatalf("PUT: %v %v", err, resp)
	}
	resp.Body.Close()

	req, _ = http.NewRequest(http.MethodGet, url, nil)
	v1Sign(req, "/"+bkt+"/"+key, osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "by hand" || resp.Header.Get("Content-Type") != "text/plain" ||
		resp.Header.Get("x-oss-meta-author") != "me" || resp.Header.Get("x-oss-hash-crc64ecma") == "" {
		t.Fatalf("GET: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	// The same object through the SDK.
	if got, _ := get(t, newClient(srv), key); string(got) != "by hand" {
		t.Fatalf("SDK sees %q", got)
	}
	// A tampered signature.
	req, _ = http.NewRequest(http.MethodGet, url, nil)
	v1Sign(req, "/"+bkt+"/other", osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>SignatureDoesNotMatch</Code>") || resp.Header.Get("x-oss-ec") == "" {
		t.Fatalf("tampered: %d %s", resp.StatusCode, body)
	}
}

func TestAdminStatsOverHTTP(t *testing.T) {
	srv := start(t, osstest.Options{})
	c := newClient(srv)
	put(t, c, "a", []byte("1"), nil)
	get(t, c, "a")
	get(t, c, "a")
	var st struct {
		Counts map[string]int64 `json:"counts"`
		Total  int64            `json:"total"`
	}
	resp, err := http.Get(srv.Endpoint() + "/_ossfs/stats")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || st.Counts["PutObject"] != 1 || st.Counts["GetObject"] != 2 || st.Total != 3 {
		t.Fatalf("stats %v %+v", err, st)
	}
	if srv.Count("GetObject") != 2 || srv.TotalRequests() != 3 {
		t.Fatalf("Go counts %v", srv.Counts())
	}
	resp, err = http.Post(srv.Endpoint()+"/_ossfs/stats/reset", "", nil)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("reset: %v %v", err, resp)
	}
	resp.Body.Close()
	if srv.TotalRequests() != 0 || len(srv.Counts()) != 0 {
		t.Fatalf("after reset %v", srv.Counts())
	}
}
