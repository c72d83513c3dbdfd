package main

import (
	"fmt"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// editKey is the object the edit workload writes into.
const editKey = "edit/big.bin"

// editPatch is what the edit workload writes: 1 MiB of the pattern taken
// from another offset, so that it differs from what it replaces.
func editPatch(at int64) []byte {
	p := make([]byte, 1<<20)
	_, _ = io.ReadFull(&patternReader{off: at + 12345, n: at + 12345 + int64(len(p))}, p)
	return p
}

// setupEdit uploads the edit workload's object once per run (latency 0).
func (b *bench) setupEdit() error {
	if !b.want("edit") || b.ready[editKey] {
		return nil
	}
	c, cancel := ctx()
	defer cancel()
	b.progress("uploading %s of %s", editKey, human(b.cfg.EditSize))
	_, err := b.sdk.NewUploader(func(o *oss.UploaderOptions) { o.PartSize = 64 << 20 }).UploadFrom(c,
		&oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(editKey)}, &patternReader{n: b.cfg.EditSize})
	if err == nil {
		b.ready[editKey] = true
	}
	return err
}

// edit writes 1 MiB into the middle of an existing -edit-size object
// through the mount (open without O_TRUNC, pwrite, close) and checks the
// whole object's CRC-64 afterwards, outside the timed part.
func (b *bench) edit() ([]Result, error) {
	at := b.cfg.EditSize / 2
	patch := editPatch(at)
	r, err := b.measure("edit", func(r *Result) error {
		f, err := os.OpenFile(filepath.Join(b.mnt, editKey), os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		n, err := f.WriteAt(patch, at)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		r.Bytes, r.Ops = int64(n), 1
		return err
	})
	r.Note = fmt.Sprintf("1 MiB at %s of a %s object, close included; PUT/GET MiB: bytes sent/fetched", human(at), human(b.cfg.EditSize))
	if err != nil {
		return []Result{r}, err
	}
	return []Result{r}, b.checkEdit(at, patch)
}

// checkEdit compares the object's CRC-64 (from a HEAD) with the pattern's
// bytes with patch at off.
func (b *bench) checkEdit(off int64, patch []byte) error {
	c, cancel := ctx()
	defer cancel()
	h, err := b.sdk.HeadObject(c, &oss.HeadObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(editKey)})
	if err != nil {
		return err
	}
	if h.ContentLength != b.cfg.EditSize {
		return fmt.Errorf("%s: %d bytes after the edit, want %d", editKey, h.ContentLength, b.cfg.EditSize)
	}
	tab := crc64.MakeTable(crc64.ECMA)
	want := crc64.New(tab)
	_, _ = io.Copy(want, &patternReader{n: off})
	want.Write(patch)
	_, _ = io.Copy(want, &patternReader{off: off + int64(len(patch)), n: b.cfg.EditSize})
	if got := oss.ToString(h.HashCRC64); got != strconv.FormatUint(want.Sum64(), 10) {
		return fmt.Errorf("%s: CRC-64 %s after the edit, want %d", editKey, got, want.Sum64())
	}
	return nil
}
