package ossclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// Credential sources, for Credentials.Source.
const (
	// SourceAuto tries, in order: the explicit key, the environment, the
	// credential file, the ECS RAM role (only when ECSRole is set).
	SourceAuto = ""
	// SourceStatic uses AccessKeyID/AccessKeySecret/SessionToken only.
	SourceStatic = "static"
	// SourceEnv uses OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and the
	// optional OSS_SESSION_TOKEN only.
	SourceEnv = "env"
	// SourceFile uses the credential file only (File, or the default paths).
	SourceFile = "file"
	// SourceECS uses the ECS instance's RAM role (ECSRole, or the role the
	// metadata service names); credentials are refreshed before they expire.
	SourceECS = "ecs"
	// SourceAnonymous sends unsigned requests (public-read buckets).
	SourceAnonymous = "anonymous"
)

// Credentials says where the access key comes from. Default (zero value):
// SourceAuto with the default credential files.
type Credentials struct {
	// Source picks exactly one source (Source* constants). Default
	// SourceAuto: the first source that has a key, in the order listed there.
	Source string

	// AccessKeyID, AccessKeySecret and the optional SessionToken (STS) are an
	// explicit key. Default "": none.
	AccessKeyID     string
	AccessKeySecret string
	SessionToken    string

	// File is a credential file in ossfs 1.x format: lines
	// "AccessKeyId:AccessKeySecret" or "bucket:AccessKeyId:AccessKeySecret"
	// (the line for our bucket wins; blank lines and "#" comments are
	// skipped). It must not be accessible by group or others (chmod 600).
	// Default "": ~/.passwd-ossfs, then /etc/passwd-ossfs, where they exist.
	File string

	// Refresh, when set, is the credential source and every other field
	// is ignored: it is asked for a key at the first request, a minute
	// before the key it gave expires, and whenever OSS rejects that key as
	// expired or unknown (403 SecurityTokenExpired, InvalidSecurityToken,
	// InvalidAccessKeyId), in which case the request is tried again with the
	// new key (within Config.MaxAttempts). Go API only: for programs that
	// get STS tokens themselves. Default nil.
	Refresh func(context.Context) (Key, error) `json:"-"`

	// ECSRole is the RAM role name of the ECS instance. Setting it adds the
	// role to SourceAuto's chain (last). Default "": with SourceECS, the
	// role the metadata service reports.
	ECSRole string
}

// String describes c without the secret or the session token, so that
// printing a Config (%v, %+v, %#v) or logging it never shows them.
func (c Credentials) String() string {
	return fmt.Sprintf("{Source:%q AccessKeyID:%q AccessKeySecret:%s SessionToken:%s File:%q ECSRole:%q}",
		c.Source, c.AccessKeyID, redacted(c.AccessKeySecret), redacted(c.SessionToken), c.File, c.ECSRole)
}

// GoString is String, for %#v.
func (c Credentials) GoString() string { return "ossclient.Credentials" + c.String() }

// LogValue is String, for slog.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON writes c with the secret and the session token redacted: slog's
// JSON handler (and any JSON dump of a Config) goes through encoding/json,
// which calls neither String nor LogValue on a nested field.
func (c Credentials) MarshalJSON() ([]byte, error) {
	type redactedCredentials Credentials // no methods: no recursion
	r := redactedCredentials(c)
	if r.AccessKeySecret != "" {
		r.AccessKeySecret = "<redacted>"
	}
	if r.SessionToken != "" {
		r.SessionToken = "<redacted>"
	}
	return json.Marshal(r)
}

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "<redacted>"
}

// defaultCredFiles lists the credential files tried when Credentials.File is
// empty (a variable so tests can point it elsewhere).
var defaultCredFiles = func() []string {
	var files []string
	if home, err := os.UserHomeDir(); err == nil {
		files = append(files, filepath.Join(home, ".passwd-ossfs"))
	}
	return append(files, "/etc/passwd-ossfs")
}

// provider resolves c into an SDK credentials provider for bucket, and says
// in words (never with a secret) where the key came from.
func (c Credentials) provider(bucket string) (credentials.CredentialsProvider, string, error) {
	if c.Refresh != nil {
		return &refresher{fetch: c.Refresh, now: time.Now}, "refreshable credential source", nil
	}
	switch c.Source {
	case SourceAuto:
		return c.chain(bucket)
	case SourceStatic:
		return c.static()
	case SourceEnv:
		p, desc, ok, err := envProvider()
		if err == nil && !ok {
			err = errors.New("ossclient: credential source env: OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET are not set")
		}
		return p, desc, err
	case SourceFile:
		p, desc, _, err := c.fileProvider(bucket, true)
		return p, desc, err
	case SourceECS:
		p, desc := ecsProvider(c.ECSRole)
		return p, desc, nil
	case SourceAnonymous:
		return credentials.NewAnonymousCredentialsProvider(), "anonymous (unsigned requests)", nil
	}
	return nil, "", fmt.Errorf("ossclient: unknown credential source %q (static, env, file, ecs, anonymous)", c.Source)
}

func (c Credentials) chain(bucket string) (credentials.CredentialsProvider, string, error) {
	var tried []string
	if c.AccessKeyID != "" || c.AccessKeySecret != "" {
		return c.static()
	}
	tried = append(tried, "explicit access key (none given)")
	p, desc, ok, err := envProvider()
	if err != nil || ok {
		return p, desc, err
	}
	tried = append(tried, "environment OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET (not set)")
	p, desc, notes, err := c.fileProvider(bucket, c.File != "")
	if err != nil || p != nil {
		return p, desc, err
	}
	tried = append(tried, notes...)
	if c.ECSRole != "" {
		p, desc := ecsProvider(c.ECSRole)
		return p, desc, nil
	}
	tried = append(tried, "ECS RAM role (no role name given)")
	return nil, "", fmt.Errorf("ossclient: no OSS credentials found; tried: %s", strings.Join(tried, "; "))
}

func (c Credentials) static() (credentials.CredentialsProvider, string, error) {
	if c.AccessKeyID == "" || c.AccessKeySecret == "" {
		return nil, "", errors.New("ossclient: an explicit access key needs both the AccessKeyId and the AccessKeySecret")
	}
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.AccessKeySecret, c.SessionToken),
		"explicit access key " + c.AccessKeyID, nil
}

// envProvider uses the SDK's environment provider (read at every request,
// so rotated tokens are picked up) when both variables are set; ok is false
// when neither is.
func envProvider() (p credentials.CredentialsProvider, desc string, ok bool, err error) {
	id, secret := os.Getenv("OSS_ACCESS_KEY_ID"), os.Getenv("OSS_ACCESS_KEY_SECRET")
	switch {
	case id == "" && secret == "":
		return nil, "", false, nil
	case id == "" || secret == "":
		return nil, "", false, errors.New("ossclient: only one of OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET is set in the environment; set both")
	}
	return credentials.NewEnvironmentVariableCredentialsProvider(), "environment OSS_ACCESS_KEY_ID " + id, true, nil
}

// fileProvider reads the credential file. With must set, a missing file or a
// file without a usable line is an error; otherwise those cases return a nil
// provider and notes saying what was tried. A file that exists but is
// unsafe or malformed is always an error.
func (c Credentials) fileProvider(bucket string, must bool) (credentials.CredentialsProvider, string, []string, error) {
	files := []string{c.File}
	if c.File == "" {
		files = defaultCredFiles()
	}
	var notes []string
	for _, f := range files {
		id, secret, err := readCredFile(f, bucket)
		switch {
		case err == nil:
			return credentials.NewStaticCredentialsProvider(id, secret), "credential file " + f + " (" + id + ")", nil, nil
		case errors.Is(err, fs.ErrNotExist):
			notes = append(notes, "credential file "+f+" (missing)")
		case errors.Is(err, errNoCredLine):
			notes = append(notes, "credential file "+f+" (no line for bucket "+bucket+" and no default line)")
		default:
			return nil, "", nil, err
		}
	}
	if must {
		return nil, "", nil, fmt.Errorf("ossclient: no usable credential file: %s", strings.Join(notes, "; "))
	}
	return nil, "", notes, nil
}

var errNoCredLine = errors.New("no matching line")

// readCredFile checks the file's mode (0600 or stricter) and returns the key
// for bucket. Errors never quote the file's content.
func readCredFile(path, bucket string) (id, secret string, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", "", err
	}
	owner := -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		owner = int(st.Uid)
	}
	if err := checkCredFileMode(path, fi.Mode(), owner); err != nil {
		return "", "", err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("ossclient: reading credential file: %w", err)
	}
	return parseCredFile(path, data, bucket)
}

// systemCredFile is the system-wide credential file of ossfs 1.x.
const systemCredFile = "/etc/passwd-ossfs"

// checkCredFileMode refuses anything but a regular file that group and
// others can neither read nor write, as ossfs 1.x and s3fs do, with one
// exception Alibaba's ossfs documentation prescribes: /etc/passwd-ossfs
// owned by root may be readable by its group (mode 0640).
func checkCredFileMode(path string, mode fs.FileMode, owner int) error {
	if !mode.IsRegular() {
		return fmt.Errorf("ossclient: credential file %s is not a regular file", path)
	}
	perm := mode.Perm()
	if path == systemCredFile && owner == 0 && perm&0o037 == 0 {
		return nil
	}
	if perm&0o077 != 0 {
		if path == systemCredFile && perm&0o037 == 0 {
			return fmt.Errorf("ossclient: credential file %s is readable by its group (mode %04o) but not owned by root (uid %d); run: chown root %s, or chmod 600 %s", path, perm, owner, path, path)
		}
		return fmt.Errorf("ossclient: credential file %s is accessible by group or others (mode %04o); run: chmod 600 %s", path, perm, path)
	}
	return nil
}

// parseCredFile parses ossfs 1.x lines. The bucket-specific line wins over
// the default line; the first of each kind counts.
func parseCredFile(path string, data []byte, bucket string) (id, secret string, err error) {
	var defID, defSecret string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		switch {
		case len(f) == 2 && f[0] != "" && f[1] != "":
			if defID == "" {
				defID, defSecret = f[0], f[1]
			}
		case len(f) == 3 && f[0] != "" && f[1] != "" && f[2] != "":
			if f[0] == bucket && id == "" {
				id, secret = f[1], f[2]
			}
		default:
			return "", "", fmt.Errorf("ossclient: credential file %s, line %d: want AccessKeyId:AccessKeySecret or bucket:AccessKeyId:AccessKeySecret", path, n)
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("ossclient: reading credential file %s: %w", path, err)
	}
	if id != "" {
		return id, secret, nil
	}
	if defID != "" {
		return defID, defSecret, nil
	}
	return "", "", errNoCredLine
}

// ecsProvider is the SDK's ECS RAM role fetcher behind a refresher (renewed
// before expiry and when OSS rejects the key), wrapped so that a malformed
// metadata answer (which the SDK quotes in its error, and which may hold a
// secret) is reported without its body.
func ecsProvider(role string) (credentials.CredentialsProvider, string) {
	var opts []func(*credentials.EcsRoleCredentialsProviderOptions)
	desc := "ECS RAM role (from the metadata service)"
	if role != "" {
		opts = append(opts, credentials.EcsRamRole(role))
		desc = "ECS RAM role " + role
	}
	// The SDK's fetcher without its own cache: the refresher keeps the key
	// until shortly before it expires or until OSS rejects it.
	inner := credentials.NewEcsRoleCredentialsProviderWithoutRefresh(opts...)
	return &refresher{now: time.Now, fetch: func(ctx context.Context) (Key, error) {
		cr, err := inner.GetCredentials(ctx)
		if err != nil {
			return Key{}, ecsError(err)
		}
		k := Key{ID: cr.AccessKeyID, Secret: cr.AccessKeySecret, Token: cr.SecurityToken}
		if cr.Expires != nil {
			k.Expires = *cr.Expires
		}
		return k, nil
	}}, desc
}

// ecsError replaces an ECS provider error that quotes the metadata
// service's answer (which may hold a secret or a token) by one that does not.
func ecsError(err error) error {
	if err != nil && strings.Contains(err.Error(), "response body") {
		return errors.New("ossclient: the ECS metadata service returned incomplete RAM role credentials")
	}
	return err
}
