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
// local mount with no credentials, then the test command, then a real
// bucket; and .ci/run runs that very test command with FUSE required.
func TestReadmeFirstScreen(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := codeBlocks(string(readme))
	if len(blocks) < 3 {
		t.Fatalf("README has %d code blocks, want at least 3", len(blocks))
	}
	if intro := string(readme[:strings.Index(string(readme), "```")]); !strings.Contains(intro, "OSS") || !strings.Contains(intro, "symlink") {
		t.Errorf("README does not open by saying what ossfs is:\n%s", intro)
	}
	for i, want := range []string{"mount --local", "go test", "--endpoint"} {
		if !strings.Contains(blocks[i], want) {
			t.Errorf("README code block %d = %q, want it to contain %q", i+1, blocks[i], want)
		}
	}
	if strings.Contains(blocks[0], "OSS_ACCESS_KEY") {
		t.Errorf("the first command needs credentials: %q", blocks[0])
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
