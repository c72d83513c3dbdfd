// Package testtarget gives a conformance test the OSS it runs against, so
// that one test checks the local server and the real service alike, and any
// difference between the two is a failing test rather than a silent drift.
//
// [Each] runs a test three times:
//
//   - "memory": the local server (package osstest) with in-memory storage;
//   - "dir": the local server storing in a temporary directory (ossfs serve
//     --dir);
//   - "oss": the real service, when the environment names a bucket:
//     OSSFS_TEST_OSS_ENDPOINT (e.g. https://oss-cn-hangzhou.aliyuncs.com),
//     OSSFS_TEST_OSS_REGION (cn-hangzhou), OSSFS_TEST_OSS_BUCKET, and
//     OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET (plus OSS_SESSION_TOKEN for
//     STS credentials). Without them the "oss" run is skipped with one line
//     saying so.
//
// Every run works under its own random prefix ("ossfs-conformance/<hex>/"),
// and everything under it (objects and open multipart uploads) is deleted
// when the test ends, on the real bucket as on the local server. A test
// that needs the local server's hooks (request counts, faults) checks
// Target.Server, which is nil on real OSS.
package testtarget

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// The environment variables that name a real bucket.
const (
	EnvEndpoint = "OSSFS_TEST_OSS_ENDPOINT"
	EnvRegion   = "OSSFS_TEST_OSS_REGION"
	EnvBucket   = "OSSFS_TEST_OSS_BUCKET"
)

// EnvStorage set to "dir" makes [LocalOptions] store in a temporary
// directory instead of memory: the tests that need the local server's hooks
// (request counts, injected faults) then run against the --dir storage of
// ossfs serve. CI runs the ossclient packages both ways.
const EnvStorage = "OSSFS_TEST_STORAGE"

// LocalOptions returns o for a local server a test starts itself: with
// OSSFS_TEST_STORAGE=dir and no Dir of its own, o.Dir is a temporary
// directory of t.
func LocalOptions(t testing.TB, o osstest.Options) osstest.Options {
	if os.Getenv(EnvStorage) == "dir" && o.Dir == "" {
		o.Dir = t.TempDir()
	}
	return o
}

// SkipMessage is the one line a skipped real-OSS run prints.
const SkipMessage = "real OSS run skipped: set " + EnvEndpoint + ", " + EnvRegion + ", " + EnvBucket +
	" and OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET to run it against a bucket (see docs/testing.md)"

// localBucket is the bucket the local server serves.
const localBucket = "conformance"

// Target is one OSS a test runs against.
type Target struct {
	// Name is "memory", "dir" or "oss".
	Name                     string
	Endpoint, Region, Bucket string
	// Prefix is this run's random prefix, ending in "/"; the test keeps
	// everything it writes under it.
	Prefix                                     string
	AccessKeyID, AccessKeySecret, SessionToken string
	// Server is the local server, nil on real OSS.
	Server *osstest.Server
}

// Real reports whether t is the real service.
func (tg *Target) Real() bool { return tg.Server == nil }

// Config is an ossclient configuration for the target's bucket, with the
// run's prefix as the mount prefix.
func (tg *Target) Config() ossclient.Config {
	return ossclient.Config{
		Endpoint: tg.Endpoint, Region: tg.Region, Bucket: tg.Bucket, Prefix: tg.Prefix,
		Credentials: ossclient.Credentials{Source: ossclient.SourceStatic,
			AccessKeyID: tg.AccessKeyID, AccessKeySecret: tg.AccessKeySecret, SessionToken: tg.SessionToken},
		Logger: slog.New(slog.DiscardHandler),
	}
}

// Client is an ossclient.Client on the target (see Config).
func (tg *Target) Client(t testing.TB) *ossclient.Client {
	t.Helper()
	c, err := ossclient.New(tg.Config())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// SDK is the official SDK on the target (keys are full keys: add Prefix).
func (tg *Target) SDK() *oss.Client {
	cfg := oss.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(tg.AccessKeyID, tg.AccessKeySecret, tg.SessionToken)).
		WithRegion(tg.Region).WithEndpoint(tg.Endpoint)
	return oss.NewClient(cfg)
}

// Each runs f against the local server in memory, the local server on a
// directory, and real OSS (skipped with SkipMessage unless configured).
func Each(t *testing.T, f func(t *testing.T, tg *Target)) {
	t.Helper()
	for _, name := range []string{"memory", "dir", "oss"} {
		t.Run(name, func(t *testing.T) { f(t, Get(t, name)) })
	}
}

// Get returns the target called name ("memory", "dir" or "oss"), with a
// fresh prefix that is cleaned up when t ends. For "oss" without the
// environment it skips t with SkipMessage.
func Get(t *testing.T, name string) *Target {
	t.Helper()
	var tg *Target
	switch name {
	case "oss":
		tg = fromEnv(t)
	case "dir":
		tg = local(t, t.TempDir())
	default:
		tg = local(t, "")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	tg.Prefix = "ossfs-conformance/" + hex.EncodeToString(b[:]) + "/"
	t.Cleanup(func() { tg.cleanup(t) })
	return tg
}

func fromEnv(t *testing.T) *Target {
	tg := &Target{Name: "oss", Endpoint: os.Getenv(EnvEndpoint), Region: os.Getenv(EnvRegion), Bucket: os.Getenv(EnvBucket),
		AccessKeyID: os.Getenv("OSS_ACCESS_KEY_ID"), AccessKeySecret: os.Getenv("OSS_ACCESS_KEY_SECRET"),
		SessionToken: os.Getenv("OSS_SESSION_TOKEN")}
	if tg.Endpoint == "" || tg.Region == "" || tg.Bucket == "" || tg.AccessKeyID == "" || tg.AccessKeySecret == "" {
		t.Skip(SkipMessage)
	}
	return tg
}

func local(t *testing.T, dir string) *Target {
	srv, err := osstest.Start(osstest.Options{Buckets: []string{localBucket}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() }) // after the prefix cleanup (LIFO)
	name := "memory"
	if dir != "" {
		name = "dir"
	}
	return &Target{Name: name, Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: localBucket,
		AccessKeyID: osstest.DefaultAccessKeyID, AccessKeySecret: osstest.DefaultAccessKeySecret, Server: srv}
}

// cleanup deletes every object and aborts every multipart upload under the
// run's prefix.
func (tg *Target) cleanup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := tg.SDK()
	ups := c.NewListMultipartUploadsPaginator(&oss.ListMultipartUploadsRequest{Bucket: &tg.Bucket, Prefix: &tg.Prefix})
	for ups.HasNext() {
		page, err := ups.NextPage(ctx)
		if err != nil {
			t.Errorf("cleanup of %s: listing uploads: %v", tg.Prefix, err)
			return
		}
		for _, u := range page.Uploads {
			if _, err := c.AbortMultipartUpload(ctx, &oss.AbortMultipartUploadRequest{Bucket: &tg.Bucket,
				Key: u.Key, UploadId: u.UploadId}); err != nil {
				t.Errorf("cleanup of %s: abort %s: %v", tg.Prefix, oss.ToString(u.Key), err)
			}
		}
	}
	objs := c.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: &tg.Bucket, Prefix: &tg.Prefix})
	for objs.HasNext() {
		page, err := objs.NextPage(ctx)
		if err != nil {
			t.Errorf("cleanup of %s: listing: %v", tg.Prefix, err)
			return
		}
		if len(page.Contents) == 0 {
			continue
		}
		del := &oss.DeleteMultipleObjectsRequest{Bucket: &tg.Bucket, Quiet: true}
		for _, o := range page.Contents {
			del.Objects = append(del.Objects, oss.DeleteObject{Key: o.Key})
		}
		if _, err := c.DeleteMultipleObjects(ctx, del); err != nil {
			t.Errorf("cleanup of %s: delete: %v", tg.Prefix, err)
		}
	}
}
