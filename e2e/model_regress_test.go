package e2e

import (
	"syscall"
	"testing"
)

// replayCase is a minimal sequence the model test found diverging.
type replayCase struct {
	name string
	ops  []op
	// tick: before op tick (when > 0) the wall clock's second changes,
	// for divergences of a one-second resolution (the server's
	// Last-Modified has no injectable clock in the model test).
	tick int
}

// replayCases replays each case on a fresh world.
func replayCases(t *testing.T, cases []replayCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ops := c.ops
			if c.tick > 0 {
				ops = append(append(ops[:c.tick:c.tick], op{Kind: opTick}), ops[c.tick:]...)
			}
			if at, err := replay(t, ops); err != nil {
				t.Errorf("op %d (%v): %v\nsequence:\n%s", at, ops[at], err, listOps(ops))
			}
		})
	}
}

// TestModelRegressions replays the minimal sequences of divergences the
// model test found, now fixed: each fails without its fix. Named after the
// area of the fix. A divergence found and not fixed yet gets its case here
// too, failing, and is listed in docs/semantics.md as a known divergence.
func TestModelRegressions(t *testing.T) {
	needRoot(t, "the model is a local directory, where a user's calls are refused by permission bits and by chown's rules, which a mount without --allow-other does not check (docs/semantics.md); as root neither refuses")
	const rdonly = syscall.O_RDONLY
	replayCases(t, []replayCase{{
		// Linux truncates on open(O_RDONLY|O_TRUNC) (POSIX leaves it
		// undefined); the mount ignored O_TRUNC without write access.
		name: "writepath_rdonly_trunc",
		ops: []op{
			{Kind: opSDKPut, Path: "f", Len: 403, Seed: 1},
			{Kind: opOpen, Slot: 0, Path: "f", Flags: rdonly | syscall.O_TRUNC},
		},
	}, {
		// A file written by another client (no x-oss-meta-mtime) renamed
		// through the mount: its copy's Last-Modified, the rename's time,
		// showed after a remount; locally the mtime stays.
		name: "meta_rename_foreign_mtime",
		ops: []op{
			{Kind: opSDKPut, Path: "f", Len: 10, Seed: 1},
			{Kind: opUtimes, Path: "f", Time: 1_500_000_000},
			{Kind: opSDKPut, Path: "g", Len: 10, Seed: 2},
			{Kind: opRename, Path: "g", Path2: "h"},
			{Kind: opRemount},
		},
		tick: 3,
	}, {
		// A file unlinked while open for writing and reading: once the
		// writer closed, the reader saw it empty; a local file keeps its
		// data until the last descriptor goes.
		name: "writepath_unlinked_read",
		ops: []op{
			{Kind: opOpen, Slot: 0, Path: "a", Flags: syscall.O_WRONLY | syscall.O_CREAT, Mode: 0o644},
			{Kind: opOpen, Slot: 1, Path: "a", Flags: rdonly},
			{Kind: opWrite, Slot: 0, Len: 3209, Seed: 2},
			{Kind: opUnlink, Path: "a"},
			{Kind: opClose, Slot: 0},
			{Kind: opPread, Slot: 1, Off: 83, Len: 3858},
		},
	}, {
		// The same with its directory renamed first: ESTALE.
		name: "writepath_unlinked_read_renamed_dir",
		ops: []op{
			{Kind: opMkdir, Path: "d"},
			{Kind: opOpen, Slot: 0, Path: "d/a", Flags: syscall.O_WRONLY | syscall.O_CREAT, Mode: 0o644},
			{Kind: opOpen, Slot: 1, Path: "d/a", Flags: rdonly},
			{Kind: opWrite, Slot: 0, Len: 3209, Seed: 2},
			{Kind: opRename, Path: "d", Path2: "e"},
			{Kind: opUnlink, Path: "e/a"},
			{Kind: opClose, Slot: 0},
			{Kind: opPread, Slot: 1, Off: 83, Len: 3858},
		},
	}, {
		// An implicit directory renamed onto an empty directory that has
		// a marker: the destination kept its old marker, so its old mode
		// (here 0700) instead of the renamed directory's defaults.
		name: "rename_implicit_dir_onto_marker",
		ops: []op{
			{Kind: opMkdir, Path: "d"},
			{Kind: opChmod, Path: "d", Mode: 0o700},
			{Kind: opSDKPut, Path: "x/f", Len: 10, Seed: 1},
			{Kind: opRename, Path: "x", Path2: "d"},
			{Kind: opRemount},
		},
	}, {
		// A directory without a marker, holding a file this mount
		// created and has not uploaded, whose only key another client
		// deletes: the directory and the file vanished from the mount
		// (the campaign of 2026-11-25, seeds 900176 and 900200).
		name: "listing_implicit_dir_holding_new_file",
		ops: []op{
			{Kind: opSDKPut, Path: "d/x", Len: 106, Seed: 1},
			{Kind: opOpen, Slot: 0, Path: "d/y", Flags: syscall.O_RDWR | syscall.O_CREAT, Mode: 0o644},
			{Kind: opSDKDelete, Path: "d/x"},
		},
	}})
}
