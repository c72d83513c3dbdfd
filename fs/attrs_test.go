package fs

import (
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossfs/ossfs/ossclient"
)

// TestLearn: an answer with metadata is known; a listing's answer is
// unknown, with the node's values for that same version or the defaults;
// without metadata persistence the defaults are all there is (known).
func TestLearn(t *testing.T) {
	f := &fsys{opts: Options{UID: 7, GID: 8, PersistMetadata: true}, mountTime: time.Unix(100, 0)}
	n := &node{f: f}
	mod := time.Unix(1000, 0)
	head := &ossclient.Object{ETag: "e1", ModTime: mod, Meta: map[string]string{"mode": "33152", "uid": "0", "gid": "0"}}
	if a := n.learn(head, 0o644); !a.known || a.mode != 0o600 || a.uid != 0 {
		t.Errorf("from a HEAD: %+v", a)
	}
	listed := &ossclient.Object{ETag: "e1", ModTime: mod, MetaUnknown: true}
	if a := n.learn(listed, 0o644); a.known || a.mode != 0o600 || a.uid != 0 {
		t.Errorf("same version from a listing: %+v; want the node's values, unknown", a)
	}
	changed := &ossclient.Object{ETag: "e1", ModTime: mod.Add(time.Second), MetaUnknown: true}
	if a := n.learn(changed, 0o644); a.known || a.mode != 0o644 || a.uid != 7 {
		t.Errorf("a new version (metadata copy: same ETag, later Last-Modified) from a listing: %+v; want the defaults", a)
	}
	f.opts.PersistMetadata = false
	if a := n.learn(listed, 0o644); !a.known || a.mode != 0o644 {
		t.Errorf("without persistence: %+v", a)
	}
}

// TestApplySetattr: chmod, chown and utimes change what they name, set
// ctime to now and make the result known; an explicit atime is kept;
// nothing changed changes nothing.
func TestApplySetattr(t *testing.T) {
	f := &fsys{opts: Options{PersistMetadata: true}}
	old := attrs{mode: 0o644, uid: 1, gid: 2, atime: time.Unix(10, 0), mtime: time.Unix(20, 0), ctime: time.Unix(30, 0)}
	in := &fuse.SetAttrIn{}
	in.Valid = fuse.FATTR_MODE | fuse.FATTR_ATIME
	in.Mode = syscall.S_IFREG | 0o600
	in.Atime = 5
	before := time.Now()
	a, errno := f.applySetattr(old, in)
	if errno != 0 || a.mode != 0o600 || a.atime.Unix() != 5 || !a.mtime.Equal(old.mtime) || a.ctime.Before(before) || !a.known {
		t.Errorf("chmod and an explicit atime: %+v, %v", a, errno)
	}
	if a, errno := f.applySetattr(old, &fuse.SetAttrIn{}); errno != 0 || a != old {
		t.Errorf("no change: %+v, %v", a, errno)
	}
	f.opts.PersistMetadata = false
	if a, errno := f.applySetattr(old, in); errno != syscall.ENOTSUP || a != old {
		t.Errorf("without persistence: %+v, %v; want ENOTSUP", a, errno)
	}
}
