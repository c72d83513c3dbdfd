package e2e

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The reference-model test (docs/semantics.md, "Reference-model test"):
// seeded random sequences of file system calls, and of changes made by
// another OSS client, are applied to a local directory (the model) and to
// a mount of the local server; after every op the errno and result of the
// call, then the whole tree (names, types, sizes, contents, modes, owners,
// mtimes, link texts) are compared. The documented differences from POSIX
// are encoded in the model (world.unsupported, world.sdk, world.rootAttrs,
// compareEntry, dtypeOK, mtimeState, dirMtime, attrTarget).
//
// Environment:
//
//	OSSFS_MODEL_OPS   total ops (default 10000; 1500 under -race, whose
//	                  in-process FUSE server is several times slower: CI
//	                  runs the 10000 without -race as a step of its own)
//	OSSFS_MODEL_LEN   ops per sequence, each on a fresh bucket and mount (default 500)
//	OSSFS_MODEL_SEED  seed of the first sequence (default 1); sequence i uses seed+i
//	OSSFS_MODEL_SHRINK_SECONDS  time spent shrinking a failure (default 120)
func TestModel(t *testing.T) {
	needRoot(t, "the model is a local directory, where a user's calls are refused by permission bits and by chown's rules, which a mount without --allow-other does not check (docs/semantics.md); as root neither refuses")
	def := 10_000
	if raceBuild {
		def = 1_500
	}
	total := envInt(t, "OSSFS_MODEL_OPS", def)
	seqLen := envInt(t, "OSSFS_MODEL_LEN", 500)
	seed := envInt(t, "OSSFS_MODEL_SEED", 1)
	start, ops := time.Now(), 0
	for i := 0; ops < total; i++ {
		n := min(seqLen, total-ops)
		s := uint64(seed + i)
		t.Run(fmt.Sprintf("seed=%d", s), func(t *testing.T) { runModel(t, s, n) })
		ops += n
	}
	t.Logf("%d ops in %v", ops, time.Since(start).Round(time.Millisecond))
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// runModel generates and runs one sequence; on a divergence it shrinks the
// sequence and reports the seed and the minimal reproduction.
func runModel(t *testing.T, seed uint64, n int) {
	w, done := startWorld(t)
	g := newGen(seed, w)
	var ops []op
	var fail error
	for len(ops) < n {
		o := g.next()
		ops = append(ops, o)
		if fail = w.step(o); fail != nil {
			break
		}
	}
	reqs := w.largeRequests()
	done()
	var stats []string
	for k := range numOpKinds {
		if w.ran[k] > 0 {
			stats = append(stats, fmt.Sprintf("%v %d (%d failed)", k, w.ran[k], w.failed[k]))
		}
	}
	t.Logf("seed %d: %s; %s", seed, strings.Join(stats, ", "), reqs)
	if fail == nil {
		return
	}
	var d *divergence
	if !errors.As(fail, &d) {
		t.Fatalf("seed %d, op %d (%v): harness error: %v", seed, len(ops)-1, ops[len(ops)-1], fail)
	}
	budget := time.Duration(envInt(t, "OSSFS_MODEL_SHRINK_SECONDS", 120)) * time.Second
	minOps, minErr := shrink(t, ops, fail, time.Now().Add(budget))
	t.Errorf("seed %d diverged at op %d of the sequence: %v\n"+
		"minimal reproduction (%d ops; replay with OSSFS_MODEL_SEED=%d OSSFS_MODEL_OPS=%d -run 'TestModel$'):\n%s\n"+
		"divergence of the minimal sequence: %v",
		seed, len(ops)-1, fail, len(minOps), seed, len(ops), listOps(minOps), minErr)
}

func listOps(ops []op) string {
	var b strings.Builder
	for i, o := range ops {
		fmt.Fprintf(&b, "\t%3d  %v\n", i, o)
	}
	return b.String()
}

// startWorld mounts a fresh bucket and makes a fresh model directory.
func startWorld(t testing.TB) (*world, func()) {
	t.Helper()
	tw := testWriter{t: t.(*testing.T), done: new(atomic.Bool)}
	logger := slog.New(slog.NewTextHandler(tw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// Before the mount exists: see forker.
	f, err := startForker()
	if err != nil {
		t.Fatal(err)
	}
	env, err := newModelEnv(t, logger)
	if err != nil {
		f.close()
		requireFUSE(t.(*testing.T), err)
	}
	modelRoot, err := os.MkdirTemp(t.TempDir(), "model")
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(env, modelRoot, f)
	return w, func() {
		w.closeAll()
		f.close()
		tw.done.Store(true)
		env.close()
	}
}

// replay runs ops on a fresh world and returns the index of the op that
// diverged and its divergence (-1, nil when none did).
func replay(t *testing.T, ops []op) (int, error) {
	w, done := startWorld(t)
	defer done()
	for i, o := range ops {
		if err := w.step(o); err != nil {
			return i, err
		}
	}
	return -1, nil
}

// shrink returns a shorter sequence that still diverges the same way: the
// failing prefix, then chunks of ops removed while a divergence of the same
// kind remains, until the deadline.
func shrink(t *testing.T, ops []op, fail error, deadline time.Time) ([]op, error) {
	cur, curErr := ops, fail
	for chunk := len(cur) / 2; chunk >= 1; chunk /= 2 {
		for i := 0; i+chunk <= len(cur); {
			if time.Now().After(deadline) {
				return cur, curErr
			}
			cand := append(append([]op(nil), cur[:i]...), cur[i+chunk:]...)
			at, err := replay(t, cand)
			if sameKind(err, fail) {
				cur, curErr = cand[:at+1], err
				continue
			}
			i += chunk
		}
	}
	return cur, curErr
}

func sameKind(err, fail error) bool {
	var a, b *divergence
	return errors.As(err, &a) && errors.As(fail, &b) && a.kind == b.kind
}
