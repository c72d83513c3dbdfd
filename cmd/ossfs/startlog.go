package main

import (
	"context"
	"log/slog"
	"sync"
)

// startLog holds back the informational log records written while a mount
// starts: written out once the mount is ready (Release), dropped when it
// fails (Discard), so that a mount that cannot start says one sentence, also
// in the foreground. Warnings and errors pass at once.
type startLog struct {
	mu      sync.Mutex
	held    []heldRecord // GUARDED_BY(mu)
	started bool         // GUARDED_BY(mu): the mount is ready, or failed
}

type heldRecord struct {
	h slog.Handler
	r slog.Record
}

// newStartLogger wraps h; the returned logger and every logger derived from
// it hold records below Warn until s.Release or s.Discard.
func newStartLogger(h slog.Handler) (*slog.Logger, *startLog) {
	s := &startLog{}
	return slog.New(startHandler{s: s, inner: h}), s
}

// Release writes the records held so far, in order, and lets every later
// record through.
func (s *startLog) Release() {
	s.mu.Lock()
	held := s.held
	s.held, s.started = nil, true
	s.mu.Unlock()
	for _, hr := range held {
		_ = hr.h.Handle(context.Background(), hr.r)
	}
}

// Discard drops the records held so far and lets every later record through.
func (s *startLog) Discard() {
	s.mu.Lock()
	s.held, s.started = nil, true
	s.mu.Unlock()
}

type startHandler struct {
	s     *startLog
	inner slog.Handler
}

func (h startHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h startHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		h.s.mu.Lock()
		if !h.s.started {
			h.s.held = append(h.s.held, heldRecord{h: h.inner, r: r.Clone()})
			h.s.mu.Unlock()
			return nil
		}
		h.s.mu.Unlock()
	}
	return h.inner.Handle(ctx, r)
}

func (h startHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return startHandler{s: h.s, inner: h.inner.WithAttrs(as)}
}

func (h startHandler) WithGroup(name string) slog.Handler {
	return startHandler{s: h.s, inner: h.inner.WithGroup(name)}
}
