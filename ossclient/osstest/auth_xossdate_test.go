package osstest_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// xOSSDateSigner wraps the SDK's V1 signer to sign as browsers and the
// Node.js SDK (ali-oss) do: they cannot set Date, so they send x-oss-date,
// put its value on the date line of the string to sign and sign it among
// the x-oss-* headers. The SDK's canonicalisation is reused; the request
// leaves without a Date header.
type xOSSDateSigner struct {
	skew time.Duration // added to the signing time
	iso  bool          // x-oss-date as 20221220T084818Z instead of the HTTP date form
	bad  string        // when set, sent as x-oss-date after signing
	none bool          // send neither Date nor x-oss-date
	// both keeps the Date header (signed on the date line) and sends an
	// x-oss-date an hour off, signed among the x-oss-* headers only.
	both bool
}

func (s *xOSSDateSigner) Sign(ctx context.Context, sc *signer.SigningContext) error {
	t := time.Now().Add(s.skew).UTC()
	val := t.Format(http.TimeFormat)
	if s.iso {
		val = t.Format("20060102T150405Z")
	}
	sc.Time = t
	sc.Request.Header.Set("x-oss-date", val)
	if s.both {
		sc.Request.Header.Set("x-oss-date", t.Add(time.Hour).Format("20060102T150405Z"))
	}
	if err := (&signer.SignerV1{}).Sign(ctx, sc); err != nil {
		return err
	}
	if s.both {
		return nil
	}
	sc.Request.Header.Del("Date")
	if s.iso { // the SDK put the HTTP date form on the date line: re-sign
		lines := strings.SplitN(sc.StringToSign, "\n", 5)
		lines[3] = val
		sc.StringToSign = strings.Join(lines, "\n")
		mac := hmac.New(sha1.New, []byte(sc.Credentials.AccessKeySecret))
		mac.Write([]byte(sc.StringToSign))
		sc.Request.Header.Set("Authorization", "OSS "+sc.Credentials.AccessKeyID+":"+
			base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	switch {
	case s.none:
		sc.Request.Header.Del("x-oss-date")
	case s.bad != "":
		sc.Request.Header.Set("x-oss-date", s.bad)
	}
	return nil
}

// sentHeaders records the headers of every request a client sends.
type sentHeaders struct {
	mu   sync.Mutex
	seen []http.Header
}

func (s *sentHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.seen = append(s.seen, r.Header.Clone())
	s.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func xOSSDateClient(srv *osstest.Server, s *xOSSDateSigner, sent *sentHeaders, opts ...clientOpt) *oss.Client {
	cfg := oss.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret)).
		WithRegion(srv.Region()).WithEndpoint(srv.Endpoint()).WithRetryMaxAttempts(1).
		WithHttpClient(&http.Client{Transport: sent})
	for _, o := range opts {
		o(cfg)
	}
	return oss.NewClient(cfg, func(o *oss.Options) { o.Signer = s })
}

// TestV1WithXOSSDate: a V1 request dated by x-oss-date alone is accepted
// in both forms, for reads, writes and listings, with the same 15-minute
// skew check as Date; with neither header it is 403 AccessDenied with EC
// 0002-00000503 (OSS's documented code for that case), and an unparsable
// x-oss-date is 0002-00000502.
func TestV1WithXOSSDate(t *testing.T) {
	srv := start(t, osstest.Options{})
	sent := &sentHeaders{}
	for _, iso := range []bool{false, true} {
		c := xOSSDateClient(srv, &xOSSDateSigner{iso: iso}, sent)
		key := "x-oss-date/" + map[bool]string{false: "http form", true: "iso+form"}[iso]
		put(t, c, key, []byte("dated"), map[string]string{"k": "v"})
		if data, _ := get(t, c, key); string(data) != "dated" {
			t.Fatalf("iso=%v: read back %q", iso, data)
		}
		lst, err := c.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(bkt), Prefix: oss.Ptr("x-oss-date/")})
		if err != nil || len(lst.Contents) == 0 {
			t.Fatalf("iso=%v: list: %v", iso, err)
		}
		for _, d := range []time.Duration{-14 * time.Minute, 14 * time.Minute} {
			c := xOSSDateClient(srv, &xOSSDateSigner{iso: iso, skew: d}, sent)
			if _, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key)}); err != nil {
				t.Fatalf("iso=%v skew %v rejected: %v", iso, d, err)
			}
		}
		for _, d := range []time.Duration{-20 * time.Minute, 20 * time.Minute} {
			_, err := xOSSDateClient(srv, &xOSSDateSigner{iso: iso, skew: d}, sent).ListObjectsV2(ctx,
				&oss.ListObjectsV2Request{Bucket: oss.Ptr(bkt)})
			wantCode(t, err, 403, "RequestTimeTooSkewed")
		}
		wrong := xOSSDateClient(srv, &xOSSDateSigner{iso: iso}, sent, withCreds(osstest.DefaultAccessKeyID, "not-the-secret"))
		_, err = wrong.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(bkt)})
		wantCode(t, err, 403, "SignatureDoesNotMatch")
	}
	if len(sent.seen) < 10 {
		t.Fatalf("only %d requests recorded", len(sent.seen))
	}
	for _, h := range sent.seen {
		if h.Get("Date") != "" || h.Get("x-oss-date") == "" {
			t.Fatalf("a request was sent with Date %q, x-oss-date %q", h.Get("Date"), h.Get("x-oss-date"))
		}
	}

	// Both headers: Date is the one on the date line and the one the skew
	// check uses (the documented formula names Date).
	if _, err := xOSSDateClient(srv, &xOSSDateSigner{both: true}, &sentHeaders{}).ListObjectsV2(ctx,
		&oss.ListObjectsV2Request{Bucket: oss.Ptr(bkt)}); err != nil {
		t.Errorf("Date and x-oss-date both sent: %v", err)
	}
	_, err := xOSSDateClient(srv, &xOSSDateSigner{none: true}, &sentHeaders{}).ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(bkt)})
	wantCode(t, err, 403, "AccessDenied")
	if ec := svcErr(t, err).EC; ec != "0002-00000503" {
		t.Errorf("no date at all: EC %s, want 0002-00000503", ec)
	}
	_, err = xOSSDateClient(srv, &xOSSDateSigner{bad: "yesterday"}, &sentHeaders{}).ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(bkt)})
	wantCode(t, err, 403, "AccessDenied")
	if ec := svcErr(t, err).EC; ec != "0002-00000502" {
		t.Errorf("unparsable x-oss-date: EC %s, want 0002-00000502", ec)
	}
}
