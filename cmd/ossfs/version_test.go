package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionFromBuildInfo: --version prints the module version and the
// VCS revision the Go toolchain recorded in the binary.
func TestVersionFromBuildInfo(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "ossfs")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	var modVersion, rev string
	for _, l := range strings.Split(string(info), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 3 && f[0] == "mod":
			modVersion = f[2]
		case len(f) >= 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision="):
			rev = strings.TrimPrefix(f[1], "vcs.revision=")
		}
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v %s", err, out)
	}
	if !strings.Contains(string(out), modVersion) || rev != "" && !strings.Contains(string(out), "(revision "+rev) {
		t.Errorf("--version = %q, want module version %q and revision %q", out, modVersion, rev)
	}
	// In a plain git checkout (CI) the toolchain records the revision; it
	// does not in a git worktree, whose .git is a file.
	if fi, err := os.Stat("../../.git"); err == nil && fi.IsDir() {
		head, _ := exec.Command("git", "rev-parse", "HEAD").Output()
		if rev == "" || rev != strings.TrimSpace(string(head)) {
			t.Errorf("revision %q recorded, want HEAD %s", rev, head)
		}
	} else if rev == "" {
		t.Logf("no revision recorded: not a plain git checkout (.git: %v)", err)
	}
}

// TestManPageUpToDate: docs/ossfs.8 is what "go generate" writes from the
// CLI definition, and it documents the flags and the 1.x form.
func TestManPageUpToDate(t *testing.T) {
	out, err := exec.Command(buildBinary(t), "man").Output()
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile("../../docs/ossfs.8")
	if err != nil {
		t.Fatal(err)
	}
	if string(page) != string(out) {
		t.Error("docs/ossfs.8 is stale: run go generate ./cmd/ossfs")
	}
	for _, want := range []string{"--stat-ttl", "--metrics-addr", "-o opt", "fuse.ossfs"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("man page does not mention %s", want)
		}
	}
}

// TestBashCompletion: the script from "ossfs completion bash" completes
// subcommands and mount flags in a real bash.
func TestBashCompletion(t *testing.T) {
	bin := buildBinary(t)
	script, err := exec.Command(bin, "completion", "bash").Output()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ossfs.bash")
	os.WriteFile(file, script, 0o644)
	complete := func(words ...string) string {
		t.Helper()
		cmd := exec.Command("bash", "-c", `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ossfs_complete; echo "${COMPREPLY[*]}"`, "bash", file)
		cmd.Args = append(cmd.Args, words...)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := complete("ossfs", "mount", "--stat-t"); got != "--stat-ttl" {
		t.Errorf("ossfs mount --stat-t<TAB> = %q, want --stat-ttl", got)
	}
	if got := complete("ossfs", "se"); got != "serve" {
		t.Errorf("ossfs se<TAB> = %q, want serve", got)
	}
	for _, sh := range []string{"zsh", "fish"} {
		if out, err := exec.Command(bin, "completion", sh).Output(); err != nil || !strings.Contains(string(out), "ossfs") {
			t.Errorf("completion %s: %v %.100s", sh, err, out)
		}
	}
}
