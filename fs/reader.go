package fs

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/ossfs/ossfs/ossclient"
)

// objectReader reads an object for one open file handle. It is an interface
// so that the read-ahead policy can be replaced (a growing, parallel
// prefetcher) without touching the handle.
type objectReader interface {
	// ReadAt fills p from off; a short count means the object ended.
	ReadAt(ctx context.Context, key string, p []byte, off int64) (int, error)
	Close()
}

// Read-ahead windows of seqReader.
const (
	minWindow = 256 << 10
	maxWindow = 8 << 20
)

// seqReader does ranged reads with a simple sequential read-ahead: it keeps
// one ranged GET open and reads on from it while the reads are sequential;
// each continuation doubles the next window (up to maxWindow); a read
// elsewhere (a seek) closes it and starts again at minWindow. A read that
// arrives while another is in progress on the same handle does its own
// ranged GET rather than wait.
type seqReader struct {
	bucket ossclient.Bucket
	ctx    context.Context // streams outlive single requests; cancelled by Close
	cancel context.CancelFunc

	mu     sync.Mutex
	body   io.ReadCloser // GUARDED_BY(mu)
	pos    int64         // GUARDED_BY(mu): offset body yields next
	end    int64         // GUARDED_BY(mu): end of body's range
	window int64         // GUARDED_BY(mu)
}

func newSeqReader(b ossclient.Bucket) *seqReader {
	ctx, cancel := context.WithCancel(context.Background())
	return &seqReader{bucket: b, ctx: ctx, cancel: cancel, window: minWindow}
}

func (r *seqReader) ReadAt(ctx context.Context, key string, p []byte, off int64) (int, error) {
	if !r.mu.TryLock() {
		return r.direct(ctx, key, p, off)
	}
	defer r.mu.Unlock()
	total := 0
	for total < len(p) {
		at := off + int64(total)
		if r.body == nil || r.pos != at || r.pos >= r.end {
			if err := r.open(key, at, int64(len(p)-total)); err != nil {
				return total, err
			}
		}
		want := min(int64(len(p)-total), r.end-r.pos)
		n, err := io.ReadFull(r.body, p[total:total+int(want)])
		total += n
		r.pos += int64(n)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			r.closeBody() // the object ended inside the window
			return total, nil
		}
		if err != nil {
			r.closeBody()
			return total, err
		}
	}
	return total, nil
}

// open starts the next window at off. LOCKS_REQUIRED(r.mu); the GET is
// started under it, which is what serializes this handle's sequential
// stream (other reads go direct).
func (r *seqReader) open(key string, off, need int64) error {
	if r.body != nil && r.pos == off {
		r.window = min(2*r.window, maxWindow)
	} else {
		r.window = minWindow
	}
	r.closeBody()
	length := max(r.window, need)
	body, err := r.bucket.Read(r.ctx, key, off, length)
	if err != nil {
		return err
	}
	r.body, r.pos, r.end = body, off, off+length
	return nil
}

func (r *seqReader) closeBody() {
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
}

func (r *seqReader) direct(ctx context.Context, key string, p []byte, off int64) (int, error) {
	body, err := r.bucket.Read(ctx, key, off, int64(len(p)))
	if err != nil {
		return 0, err
	}
	defer body.Close()
	n, err := io.ReadFull(body, p)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	return n, err
}

func (r *seqReader) Close() {
	r.cancel()
	r.mu.Lock()
	r.closeBody()
	r.mu.Unlock()
}
