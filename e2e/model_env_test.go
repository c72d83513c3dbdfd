package e2e

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/ossfs/ossfs/cache"
	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
	"github.com/ossfs/ossfs/ossclient/osstest/testtarget"
)

// modelEnv is the system under test of the reference-model test: the local
// server, a mount of it that can be remounted on the same mountpoint, and a
// fake clock behind every cache TTL. The kernel's entry, attribute and
// negative timeouts are 0, so a change the model makes behind the mount's
// back becomes visible deterministically once the fake clock has passed
// every TTL (staleTTL): no sleeping.
type modelEnv struct {
	t      testing.TB
	srv    *osstest.Server
	raw    ossclient.Bucket // the bucket root, uncached: another OSS client
	clock  *cache.FakeClock
	logger *slog.Logger
	mnt    string
	cached *cache.Bucket
	m      *ossfs.Mounted
}

// The model mount's write thresholds, scaled down from the defaults (8 MiB
// parts and stream memory, 16 MiB in-place edits) so that the generator's
// rare large writes (gen.length) cross all three at a cost the CI budget
// allows: a multipart stream, a stream past its memory that falls back by
// completing its upload and reading it back, and the in-place edit of a
// large object (UploadPartCopy of the unchanged ranges; 100 KiB is OSS's
// least part).
const (
	modelPartSize     = 100 << 10
	modelStreamMemory = 192 << 10
	modelEditMin      = 256 << 10
)

// staleTTL is longer than every cache TTL (the symlink TTL, 5 min, is the
// longest): advancing the fake clock by it expires everything cached.
const staleTTL = 10 * time.Minute

func newModelEnv(t testing.TB, logger *slog.Logger) (*modelEnv, error) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return nil, fmt.Errorf("FUSE is not available: %w", err)
	}
	srv, err := osstest.Start(osstest.Options{Buckets: []string{bucketName}})
	if err != nil {
		return nil, err
	}
	mnt, err := os.MkdirTemp(t.TempDir(), "mnt")
	if err != nil {
		srv.Close()
		return nil, err
	}
	e := &modelEnv{
		t: t, srv: srv, logger: logger, mnt: mnt, clock: cache.NewFakeClock(time.Now()),
	}
	if e.raw, err = e.client(); err != nil {
		srv.Close()
		return nil, err
	}
	if err := e.mount(); err != nil {
		srv.Close()
		return nil, err
	}
	return e, nil
}

// mount mounts the bucket on e.mnt with a fresh cache (a remount forgets
// everything but the bucket).
func (e *modelEnv) mount() error {
	co := cache.DefaultOptions()
	co.Logger, co.Clock = e.logger, e.clock
	cl, err := e.client()
	if err != nil {
		return err
	}
	e.cached = cache.NewBucket(cl, co)
	o := ossfs.DefaultOptions()
	o.Mountpoint, o.Logger = e.mnt, e.logger
	o.EntryTimeout, o.AttrTimeout, o.NegativeTimeout = -1, -1, -1
	// The model's files are small; 128 KiB kernel reads exercise the
	// read-ahead queue within them.
	o.KernelReadAheadKB = -1
	o.StreamMemory, o.EditMin = modelStreamMemory, modelEditMin
	m, err := ossfs.Mount(e.cached, o)
	if err != nil {
		e.cached.Close()
		return err
	}
	trackMount(e.mnt)
	e.m = m
	return nil
}

// client opens the bucket with the real SDK, as newEnv does.
func (e *modelEnv) client() (*ossclient.Client, error) {
	tg := &testtarget.Target{Endpoint: e.srv.Endpoint(), Region: e.srv.Region(), Bucket: bucketName, Server: e.srv,
		AccessKeyID: osstest.DefaultAccessKeyID, AccessKeySecret: osstest.DefaultAccessKeySecret}
	cfg := tg.Config()
	cfg.Logger, cfg.PartSize = e.logger, modelPartSize
	return ossclient.New(cfg)
}

// unmount unmounts (retrying while the kernel still holds the last
// release) and waits for the pending uploads.
func (e *modelEnv) unmount() error {
	var err error
	for range 100 {
		if err = e.m.Unmount(); err == nil {
			e.m.Wait()
			e.cached.Close()
			return nil
		}
		// The kernel sends RELEASE after close(2) returns: an unmount right
		// after the last close can still see the file open.
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

func (e *modelEnv) remount() error {
	if err := e.unmount(); err != nil {
		return fmt.Errorf("unmount for remount: %w", err)
	}
	return e.mount()
}

// close tears everything down; a mount that will not go is detached.
func (e *modelEnv) close() {
	if err := e.unmount(); err != nil {
		e.t.Errorf("unmount %s: %v; detaching lazily", e.mnt, err)
		exec.Command("umount", "-l", e.mnt).Run()
	}
	e.srv.Close()
}
