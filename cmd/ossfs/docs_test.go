package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestHelpExplainsEveryFlag: every mount flag has an explanation and shows
// in "ossfs mount --help", and the flags issue #4 names exist.
func TestHelpExplainsEveryFlag(t *testing.T) {
	out, err := exec.Command(buildBinary(t), "mount", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("mount --help: %v\n%s", err, out)
	}
	help := string(out)
	seen := map[string]bool{}
	for _, f := range mountFlags() {
		name := f.Names()[0]
		seen[name] = true
		usage := ""
		if df, ok := f.(cli.DocGenerationFlag); ok {
			usage = df.GetUsage()
		}
		if len(strings.Fields(usage)) < 3 {
			t.Errorf("--%s has no real explanation: %q", name, usage)
		}
		if !strings.Contains(help, "--"+name+" ") {
			t.Errorf("--%s is missing from mount --help", name)
		}
	}
	for _, name := range []string{
		"endpoint", "region", "local", "foreground", "symlink-forbid-overwrite", "symlink-acl",
		"symlink-storage-class", "uid", "gid", "file-mode", "dir-mode", "allow-other", "read-only",
		"log-level", "stat-ttl", "list-ttl", "negative-ttl", "symlink-ttl", "stat-cache-entries",
		"list-cache-entries", "symlink-cache-entries",
	} {
		if !seen[name] {
			t.Errorf("mount has no --%s flag", name)
		}
	}
	for _, env := range []string{"OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET"} {
		if !strings.Contains(help, env) {
			t.Errorf("mount --help does not mention %s", env)
		}
	}
}

// TestReadmeFirstScreen: the README opens with what ossfs is, then the
// install and a local mount with no credentials (by any user, on a
// mountpoint under their home), then the test command, then a real bucket
// with the ossfs 1.x command line, then fstab; and .ci/run runs that very
// test command with FUSE required.
func TestReadmeFirstScreen(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := codeBlocks(string(readme))
	if len(blocks) < 4 {
		t.Fatalf("README has %d code blocks, want at least 4", len(blocks))
	}
	if intro := string(readme[:strings.Index(string(readme), "```")]); !strings.Contains(intro, "OSS") || !strings.Contains(intro, "symlink") {
		t.Errorf("README does not open by saying what ossfs is:\n%s", intro)
	}
	for i, want := range []string{"go install ./cmd/ossfs", "go test", "-o url=", "fuse.ossfs"} {
		if !strings.Contains(blocks[i], want) {
			t.Errorf("README code block %d = %q, want it to contain %q", i+1, blocks[i], want)
		}
	}
	if !strings.Contains(blocks[0], "mount --local") || !strings.Contains(blocks[0], "~/") {
		t.Errorf("the first block does not mount locally under the home directory: %q", blocks[0])
	}
	if strings.Contains(blocks[0], "OSS_ACCESS_KEY") {
		t.Errorf("the first command needs credentials: %q", blocks[0])
	}
	if screen := strings.Join(strings.Split(string(readme), "\n")[:50], "\n"); !strings.Contains(screen, "fusermount3 -u ~/") {
		t.Error("the README's first screen does not show how a user unmounts")
	}
	testCmd := strings.TrimSpace(blocks[1])
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(ci), "\n")
	required, ran := false, false
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "export OSSFS_REQUIRE_FUSE=1" {
			required = true
		}
		if l == testCmd || l == "OSSFS_REQUIRE_FUSE=1 "+testCmd {
			ran = required || strings.HasPrefix(l, "OSSFS_REQUIRE_FUSE=1 ")
		}
	}
	if !ran {
		t.Errorf(".ci/run does not run the README's test command %q with OSSFS_REQUIRE_FUSE=1", testCmd)
	}
}

// codeBlocks returns the contents of the fenced code blocks of a Markdown
// text, in order.
func codeBlocks(md string) []string {
	var blocks []string
	parts := strings.Split(md, "```")
	for i := 1; i < len(parts); i += 2 {
		body := parts[i]
		if nl := strings.IndexByte(body, '\n'); nl >= 0 {
			body = body[nl+1:] // drop the info string ("sh")
		}
		blocks = append(blocks, body)
	}
	return blocks
}

// TestSignalsDocumentedAlike: --help, the README and docs/semantics.md say
// the same about SIGHUP: it reopens the log and never unmounts.
func TestSignalsDocumentedAlike(t *testing.T) {
	help, err := exec.Command(buildBinary(t), "--help").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	readme, _ := os.ReadFile("../../README.md")
	sem, _ := os.ReadFile("../../docs/semantics.md")
	for name, text := range map[string]string{"ossfs --help": string(help), "README.md": string(readme), "docs/semantics.md": string(sem)} {
		flat := strings.Join(strings.Fields(text), " ")
		if !strings.Contains(flat, "SIGHUP reopens the log") && !strings.Contains(flat, "SIGHUP never unmounts: it reopens the log") {
			t.Errorf("%s does not say that SIGHUP reopens the log", name)
		}
		if strings.Contains(flat, "SIGINT/SIGTERM/SIGHUP") {
			t.Errorf("%s still says SIGHUP unmounts", name)
		}
	}
	if lines := strings.Count(string(help), "\n"); lines > 40 {
		t.Errorf("ossfs --help is %d lines: it should fit a terminal", lines)
	}
	if !strings.Contains(strings.SplitN(string(help), "USAGE:", 2)[1][:80], "ossfs BUCKET[:/PREFIX] MOUNTPOINT [-o") {
		t.Errorf("ossfs --help does not lead with the ossfs 1.x form:\n%s", help)
	}
}
