package main

import (
	"fmt"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/internal/bytesize"
	"github.com/ossfs/ossfs/ossclient"
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
	b.progress("uploading %s of %s", editKey, bytesize.Format(b.cfg.EditSize))
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
		if err == nil && n != len(patch) {
			err = fmt.Errorf("wrote %d of %d bytes", n, len(patch))
		}
		r.Ops = 1 // no MiB/s: the bytes moved are in the PUT/GET columns
		return err
	})
	r.Note = fmt.Sprintf("1 MiB at %s of a %s object, close included; PUT/GET MiB: bytes sent/fetched", bytesize.Format(at), bytesize.Format(b.cfg.EditSize))
	if err != nil {
		return []Result{r}, err
	}
	if err := b.checkEdit(at, patch); err != nil {
		return []Result{r}, err
	}
	sdk, err := b.measure("edit-copy-sdk", func(r *Result) error {
		r.Ops = 1
		r.Note = fmt.Sprintf("the server-side share alone: the SDK copies the whole object with UploadPartCopy (%s parts, %d in parallel)",
			bytesize.Format(ossclient.DefaultCopyPartSize), ossclient.DefaultUploadParallelism)
		return b.sdkCopy(editKey, "edit/copy.bin")
	})
	sdk.PeakRSS, sdk.MountCPU = 0, 0
	r.Ratio = sdk.Wall.Seconds() / r.Wall.Seconds() // 1: the edit costs no more than its copies
	return []Result{r, sdk}, err
}

// sdkCopy copies src to dst with the SDK, one multipart upload of
// UploadPartCopy parts, as an edit copies its unchanged ranges.
func (b *bench) sdkCopy(src, dst string) error {
	c, cancel := ctx()
	defer cancel()
	ir, err := b.sdk.InitiateMultipartUpload(c, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(dst)})
	if err != nil {
		return err
	}
	const part = ossclient.DefaultCopyPartSize
	n := int((b.cfg.EditSize + part - 1) / part)
	parts := make([]oss.UploadPart, n)
	err = b.parallel(n, ossclient.DefaultUploadParallelism, func(i int) error {
		off := int64(i) * part
		res, err := b.sdk.UploadPartCopy(c, &oss.UploadPartCopyRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(dst),
			UploadId: ir.UploadId, PartNumber: int32(i + 1), SourceKey: oss.Ptr(src),
			Range: oss.Ptr(fmt.Sprintf("bytes=%d-%d", off, min(off+part, b.cfg.EditSize)-1))})
		if err == nil {
			parts[i] = oss.UploadPart{PartNumber: int32(i + 1), ETag: res.ETag}
		}
		return err
	})
	if err == nil {
		_, err = b.sdk.CompleteMultipartUpload(c, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(dst),
			UploadId: ir.UploadId, CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts}})
	}
	return err
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
