// Package e2e holds ossfs's mount tests: each test starts the local OSS
// server (ossclient/osstest, in memory) in the test process, opens it with
// the real SDK client (ossclient) behind the cache decorator (cache), mounts
// it with fs.Mount on a temp directory, and drives the mount with standard
// tools (ln, readlink, cp, tar, rsync, find, du, mv, git, python3 -m venv)
// as subprocesses, checking the bucket afterwards through a second client
// that bypasses the cache, and request counts from the server.
//
// The fault matrix (faults*_test.go, TestFault*) runs real workloads with
// faults injected at the server (errors, holds, stalls, cut connections, an
// expiring STS token, the server or the mount process killed) and checks
// that nothing acknowledged is lost, every failure is an errno, no partial
// object is visible and nothing is left open; docs/semantics.md records it.
//
// Tests that need FUSE skip with a message where /dev/fuse is missing or a
// mount is not permitted; with OSSFS_REQUIRE_FUSE=1 (CI) that is a failure,
// so the suite can never pass by skipping.
package e2e
