package ossclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

func TestParseCredFile(t *testing.T) {
	cases := []struct {
		name, data, bucket, id, secret string
		noLine, bad                    bool
	}{
		{name: "default", data: "AKID:SECRET\n", bucket: "b1", id: "AKID", secret: "SECRET"},
		{name: "bucket wins after", data: "AKID:SECRET\nb1:BID:BSECRET\n", bucket: "b1", id: "BID", secret: "BSECRET"},
		{name: "bucket wins before", data: "b1:BID:BSECRET\nAKID:SECRET\n", bucket: "b1", id: "BID", secret: "BSECRET"},
		{name: "other bucket", data: "b2:BID:BSECRET\nAKID:SECRET\n", bucket: "b1", id: "AKID", secret: "SECRET"},
		{name: "only other bucket", data: "b2:BID:BSECRET\n", bucket: "b1", noLine: true},
		{name: "empty", data: "", bucket: "b1", noLine: true},
		{name: "comments and blanks", data: "# c\n\n  AKID:SECRET  \r\n", bucket: "b1", id: "AKID", secret: "SECRET"},
		{name: "first default counts", data: "A1:S1\nA2:S2\n", bucket: "b1", id: "A1", secret: "S1"},
		{name: "one field", data: "JUSTONE\n", bucket: "b1", bad: true},
		{name: "four fields", data: "a:b:c:d\n", bucket: "b1", bad: true},
		{name: "empty field", data: "AKID:\n", bucket: "b1", bad: true},
	}
	for _, c := range cases {
		id, secret, err := parseCredFile("/f", []byte(c.data), c.bucket)
		switch {
		case c.bad:
			if err == nil || errors.Is(err, errNoCredLine) {
				t.Errorf("%s: err = %v, want a parse error", c.name, err)
			} else if strings.Contains(err.Error(), strings.TrimSpace(c.data)) {
				t.Errorf("%s: error quotes the line: %v", c.name, err)
			}
		case c.noLine:
			if !errors.Is(err, errNoCredLine) {
				t.Errorf("%s: err = %v, want errNoCredLine", c.name, err)
			}
		default:
			if err != nil || id != c.id || secret != c.secret {
				t.Errorf("%s: got %q %q %v, want %q %q", c.name, id, secret, err, c.id, c.secret)
			}
		}
	}
}

func TestCheckCredFileMode(t *testing.T) {
	for _, m := range []fs.FileMode{0o600, 0o400, 0o700, 0o200} {
		if err := checkCredFileMode("/f", m, 0); err != nil {
			t.Errorf("mode %o refused: %v", m, err)
		}
	}
	for _, m := range []fs.FileMode{0o640, 0o604, 0o644, 0o660, 0o666, 0o610, 0o601, 0o602, 0o620} {
		err := checkCredFileMode("/f", m, 0)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %o: err = %v, want a refusal that says chmod 600", m, err)
		}
	}
	if err := checkCredFileMode("/f", fs.ModeDir|0o600, 0); err == nil {
		t.Errorf("a directory was accepted")
	}
	// /etc/passwd-ossfs at 0640 owned by root, as Alibaba's ossfs
	// documentation says to set it; not when another user owns it, and
	// never readable by others or writable by the group.
	for _, m := range []fs.FileMode{0o640, 0o600, 0o440} {
		if err := checkCredFileMode(systemCredFile, m, 0); err != nil {
			t.Errorf("%s mode %o owned by root refused: %v", systemCredFile, m, err)
		}
	}
	if err := checkCredFileMode(systemCredFile, 0o640, 1000); err == nil || !strings.Contains(err.Error(), "not owned by root") {
		t.Errorf("%s mode 0640 owned by uid 1000: err = %v, want a refusal naming the owner", systemCredFile, err)
	}
	for _, m := range []fs.FileMode{0o644, 0o604, 0o660, 0o650} {
		if err := checkCredFileMode(systemCredFile, m, 0); err == nil {
			t.Errorf("%s mode %o accepted", systemCredFile, m)
		}
	}
}

// credEnv isolates a test from the real environment and credential files.
func credEnv(t *testing.T, files ...string) {
	t.Helper()
	t.Setenv("OSS_ACCESS_KEY_ID", "")
	t.Setenv("OSS_ACCESS_KEY_SECRET", "")
	t.Setenv("OSS_SESSION_TOKEN", "")
	old := defaultCredFiles
	defaultCredFiles = func() []string { return files }
	t.Cleanup(func() { defaultCredFiles = old })
}

func writeCred(t *testing.T, data string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "passwd-ossfs")
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func getCreds(t *testing.T, p credentials.CredentialsProvider) credentials.Credentials {
	t.Helper()
	cr, err := p.GetCredentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cr
}

func TestCredentialChain(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none")
	good := writeCred(t, "FID:FSECRET\nbkt:BFID:BFSECRET\n", 0o600)
	loose := writeCred(t, "FID:FSECRET\n", 0o644)

	t.Run("explicit first", func(t *testing.T) {
		credEnv(t, good)
		t.Setenv("OSS_ACCESS_KEY_ID", "EID")
		t.Setenv("OSS_ACCESS_KEY_SECRET", "ESECRET")
		p, desc, err := Credentials{AccessKeyID: "XID", AccessKeySecret: "XSECRET", SessionToken: "TOK"}.provider("bkt")
		if err != nil {
			t.Fatal(err)
		}
		if cr := getCreds(t, p); cr.AccessKeyID != "XID" || cr.SecurityToken != "TOK" {
			t.Errorf("got %+v", cr.AccessKeyID)
		}
		if strings.Contains(desc, "XSECRET") {
			t.Errorf("description has the secret: %s", desc)
		}
	})
	t.Run("half explicit", func(t *testing.T) {
		credEnv(t)
		if _, _, err := (Credentials{AccessKeyID: "XID"}).provider("bkt"); err == nil {
			t.Error("an id without a secret was accepted")
		}
	})
	t.Run("env before file", func(t *testing.T) {
		credEnv(t, good)
		t.Setenv("OSS_ACCESS_KEY_ID", "EID")
		t.Setenv("OSS_ACCESS_KEY_SECRET", "ESECRET")
		t.Setenv("OSS_SESSION_TOKEN", "ETOK")
		p, _, err := Credentials{}.provider("bkt")
		if err != nil {
			t.Fatal(err)
		}
		if cr := getCreds(t, p); cr.AccessKeyID != "EID" || cr.AccessKeySecret != "ESECRET" || cr.SecurityToken != "ETOK" {
			t.Errorf("got id %q", cr.AccessKeyID)
		}
	})
	t.Run("half env", func(t *testing.T) {
		credEnv(t, good)
		t.Setenv("OSS_ACCESS_KEY_ID", "EID")
		if _, _, err := (Credentials{}).provider("bkt"); err == nil {
			t.Error("half the environment was accepted")
		}
	})
	t.Run("default file, bucket line, missing first", func(t *testing.T) {
		credEnv(t, missing, good)
		p, desc, err := Credentials{}.provider("bkt")
		if err != nil {
			t.Fatal(err)
		}
		if cr := getCreds(t, p); cr.AccessKeyID != "BFID" || cr.AccessKeySecret != "BFSECRET" {
			t.Errorf("got id %q", cr.AccessKeyID)
		}
		if !strings.Contains(desc, good) || strings.Contains(desc, "BFSECRET") {
			t.Errorf("description %q", desc)
		}
	})
	t.Run("loose file refused", func(t *testing.T) {
		credEnv(t, loose, good)
		_, _, err := Credentials{}.provider("bkt")
		if err == nil || !strings.Contains(err.Error(), "chmod 600 "+loose) || strings.Contains(err.Error(), "FSECRET") {
			t.Errorf("err = %v, want a refusal naming %s", err, loose)
		}
	})
	t.Run("explicit file", func(t *testing.T) {
		credEnv(t)
		p, _, err := Credentials{File: good}.provider("other")
		if err != nil {
			t.Fatal(err)
		}
		if cr := getCreds(t, p); cr.AccessKeyID != "FID" {
			t.Errorf("got id %q", cr.AccessKeyID)
		}
		if _, _, err := (Credentials{File: missing}).provider("bkt"); err == nil {
			t.Error("a missing explicit file was accepted")
		}
	})
	t.Run("nothing", func(t *testing.T) {
		credEnv(t, missing)
		_, _, err := Credentials{}.provider("bkt")
		if err == nil {
			t.Fatal("no error without credentials")
		}
		for _, want := range []string{"explicit", "OSS_ACCESS_KEY_ID", missing + " (missing)", "ECS RAM role"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
	})
	t.Run("source picks one", func(t *testing.T) {
		credEnv(t, good)
		t.Setenv("OSS_ACCESS_KEY_ID", "EID")
		t.Setenv("OSS_ACCESS_KEY_SECRET", "ESECRET")
		p, _, err := Credentials{Source: SourceFile}.provider("bkt")
		if err != nil {
			t.Fatal(err)
		}
		if cr := getCreds(t, p); cr.AccessKeyID != "BFID" {
			t.Errorf("source file gave id %q", cr.AccessKeyID)
		}
		if _, _, err := (Credentials{Source: SourceStatic}).provider("bkt"); err == nil {
			t.Error("source static without a key was accepted")
		}
		if _, desc, err := (Credentials{Source: SourceECS, ECSRole: "role1"}).provider("bkt"); err != nil || !strings.Contains(desc, "role1") {
			t.Errorf("source ecs: %q, %v", desc, err)
		}
		if _, _, err := (Credentials{Source: "bogus"}).provider("bkt"); err == nil {
			t.Error("unknown source accepted")
		}
		if p, _, err := (Credentials{Source: SourceAnonymous}).provider("bkt"); err != nil || getCreds(t, p).HasKeys() {
			t.Errorf("anonymous: %v", err)
		}
	})
}

func TestCredentialsNeverPrinted(t *testing.T) {
	cfg := Config{Bucket: "bkt", Credentials: Credentials{AccessKeyID: "ID1", AccessKeySecret: "SEKRIT", SessionToken: "TOKEN9"}}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("cfg", "cfg", cfg, "creds", cfg.Credentials)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("cfg", "cfg", cfg, "creds", cfg.Credentials)
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%v", &cfg), logged.String(), string(js)} {
		if strings.Contains(s, "SEKRIT") || strings.Contains(s, "TOKEN9") || !strings.Contains(s, "ID1") {
			t.Errorf("printed config: %s", s)
		}
	}
}

func TestCredentialChainMore(t *testing.T) {
	dir := t.TempDir()
	other := writeCred(t, "otherbkt:OID:OSECRET\n", 0o600)
	good := writeCred(t, "FID:FSECRET\n", 0o600)
	missing := filepath.Join(dir, "none")

	t.Run("default files: home, then etc", func(t *testing.T) {
		t.Setenv("HOME", dir)
		want := []string{filepath.Join(dir, ".passwd-ossfs"), "/etc/passwd-ossfs"}
		if got := defaultCredFiles(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("default credential files %q, want %q", got, want)
		}
	})
	t.Run("file without our line: next file", func(t *testing.T) {
		credEnv(t, other, good)
		p, desc, err := Credentials{}.provider("bkt")
		if err != nil || getCreds(t, p).AccessKeyID != "FID" || !strings.Contains(desc, good) {
			t.Errorf("got %q, %v", desc, err)
		}
	})
	t.Run("file before ECS role", func(t *testing.T) {
		credEnv(t, good)
		p, desc, err := Credentials{ECSRole: "role1"}.provider("bkt")
		if err != nil || getCreds(t, p).AccessKeyID != "FID" || strings.Contains(desc, "ECS") {
			t.Errorf("got %q, %v", desc, err)
		}
	})
	t.Run("ECS role last", func(t *testing.T) {
		credEnv(t, missing)
		_, desc, err := Credentials{ECSRole: "role1"}.provider("bkt")
		if err != nil || desc != "ECS RAM role role1" {
			t.Errorf("got %q, %v", desc, err)
		}
	})
	t.Run("nothing usable lists every file", func(t *testing.T) {
		credEnv(t, other, missing)
		_, _, err := Credentials{}.provider("bkt")
		if err == nil || !strings.Contains(err.Error(), other+" (no line for bucket bkt") ||
			!strings.Contains(err.Error(), missing+" (missing)") || strings.Contains(err.Error(), "OSECRET") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestECSErrorHidesTheAnswer(t *testing.T) {
	leak := errors.New(`AccessKeyId or AccessKeySecret is empty, response body is '{"AccessKeySecret":"S3CR3T","SecurityToken":"T0K3N"}'`)
	if err := ecsError(leak); err == nil || strings.Contains(err.Error(), "S3CR3T") || strings.Contains(err.Error(), "T0K3N") {
		t.Errorf("ecsError = %v", err)
	}
	plain := errors.New("failed to fetch ecs role name, resp.StatusCode:404")
	if err := ecsError(plain); err != plain {
		t.Errorf("ecsError changed %v into %v", plain, err)
	}
	if ecsError(nil) != nil {
		t.Error("ecsError(nil) != nil")
	}
}
