package ossclient

import "testing"

// TestPartBuffersDroppedWhenIdle: concurrent uploads share one pool of
// part buffers; when the last one ends the pool is dropped (a sync.Pool
// keeps its buffers through a GC), so a mount that wrote a large file does
// not keep parallelism × PartSize after it.
func TestPartBuffersDroppedWhenIdle(t *testing.T) {
	b := newPartBuffers(1 << 10)
	p1, p2 := b.begin(), b.begin()
	if p1 != p2 {
		t.Fatal("two running uploads got different pools")
	}
	buf := p1.Get().([]byte)
	if len(buf) != 1<<10 {
		t.Fatalf("a part buffer of %d bytes, want %d", len(buf), 1<<10)
	}
	p1.Put(buf)
	b.end()
	if b.begin() != p1 {
		t.Fatal("the pool was dropped while an upload still ran")
	}
	b.end()
	b.end()
	if b.pool == p1 || b.users != 0 {
		t.Fatalf("after the last upload: same pool %v, %d users", b.pool == p1, b.users)
	}
}
