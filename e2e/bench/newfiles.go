package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// newFiles creates cfg.Files small files with cfg.Writers writers in a
// directory that exists in the bucket (made by the SDK: a marker and one
// object) but that the mount has never listed: the lookups of the new
// names are what this row measures (issue #14: at most 1.1 requests per
// file). The directory is a subdirectory, so that the lookup of its own
// name is answered by its parent's listing, not by a page of its own.
func (b *bench) newFiles() ([]Result, error) {
	dir := fmt.Sprintf("newfiles-%s/d", b.rowName())
	c, cancel := ctx()
	defer cancel()
	for _, k := range []string{dir + "/", dir + "/existing"} {
		if _, err := b.sdk.PutObject(c, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(k),
			Body: strings.NewReader("")}); err != nil {
			return nil, err
		}
	}
	data := pattern[:b.cfg.SmallSize]
	name := func(i int) string { return fmt.Sprintf("%s/f-%05d", dir, i) }
	r, err := b.measure("newfiles", func(r *Result) error {
		r.Ops, r.Bytes = b.cfg.Files, int64(b.cfg.Files)*b.cfg.SmallSize
		r.Note = fmt.Sprintf("%d writers, into an existing directory not listed before", b.cfg.Writers)
		return b.parallel(b.cfg.Files, b.cfg.Writers, func(i int) error {
			return os.WriteFile(filepath.Join(b.mnt, name(i)), data, 0o644)
		})
	})
	if err != nil {
		return []Result{r}, err
	}
	for _, i := range []int{0, b.cfg.Files - 1} {
		res, err := b.sdk.GetObject(c, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(name(i))})
		if err != nil {
			return []Result{r}, err
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || !bytes.Equal(got, data) {
			return []Result{r}, fmt.Errorf("%s: wrong content (%v)", name(i), err)
		}
	}
	return []Result{r}, nil
}

// treeDepth, treeDirs and treeFiles shape the trees of newTree.
const (
	treeDepth = 16 // levels made by mkdir -p
	treeDirs  = 16 // directories copied by cp -r and tar x (plus their root)
	treeFiles = 8  // files of 4 KiB in each of them
)

// newTree makes new directories through the mount: `mkdir -p` of a deep
// path, then `cp -r` and `tar x` of a local tree (treeDirs directories of
// treeFiles files each, under one root). Each result's note gives the
// requests per new directory beyond one PutObject per file.
func (b *bench) newTree() ([]Result, error) {
	need := []string{"cp", "tar", "mkdir"}
	for _, t := range need {
		if _, err := exec.LookPath(t); err != nil {
			return nil, fmt.Errorf("newtree needs %s: %w", t, err)
		}
	}
	src, err := os.MkdirTemp("", "ossfs-bench-tree-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(src)
	tree := filepath.Join(src, "tree")
	for d := range treeDirs {
		sub := filepath.Join(tree, fmt.Sprintf("d%02d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return nil, err
		}
		for f := range treeFiles {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%d", f)), pattern[:4<<10], 0o644); err != nil {
				return nil, err
			}
		}
	}
	tarball := filepath.Join(src, "tree.tar")
	if out, err := exec.Command("tar", "-C", src, "-cf", tarball, "tree").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("tar c: %v: %s", err, out)
	}
	base := filepath.Join(b.mnt, "tree-"+b.rowName())
	runs := []struct {
		name string
		dirs int
		cmd  []string
	}{
		{"mkdir-p", treeDepth + 1, []string{"mkdir", "-p", filepath.Join(base, "p", strings.Repeat("d/", treeDepth))}},
		{"cp-r", treeDirs + 1, []string{"cp", "-r", tree, filepath.Join(base, "cp")}},
		{"tar-x", treeDirs + 1, []string{"tar", "-C", filepath.Join(base, "tar"), "-xf", tarball}},
	}
	// The base and the tar destination exist first (outside the measure).
	if err := os.MkdirAll(filepath.Join(base, "tar"), 0o755); err != nil {
		return nil, err
	}
	var out []Result
	for _, run := range runs {
		files := 0
		if run.name != "mkdir-p" {
			files = treeDirs * treeFiles
		}
		r, err := b.measure(run.name, func(r *Result) error {
			r.Ops = run.dirs
			if o, err := exec.Command(run.cmd[0], run.cmd[1:]...).CombinedOutput(); err != nil {
				return fmt.Errorf("%s: %v: %s", strings.Join(run.cmd, " "), err, o)
			}
			return nil
		})
		var n int64
		for _, v := range r.Requests {
			n += v
		}
		r.Note = fmt.Sprintf("%d new dirs, %d files: %.2f requests per dir beyond one Put per file",
			run.dirs, files, float64(n-int64(files))/float64(run.dirs))
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
