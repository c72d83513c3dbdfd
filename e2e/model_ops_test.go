package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The operations of the reference-model test. An op is concrete (paths,
// descriptor slots, offsets, data seed), so a failing sequence replays
// exactly and can be shrunk by dropping ops; an op whose precondition no
// longer holds in a shrunk sequence (an empty slot, a key now open) is
// skipped on both sides.

type opKind uint8

const (
	opOpen       opKind = iota // open(Path, Flags, Mode) into Slot
	opPwrite                   // pwrite(Slot, Len bytes of Seed, Off)
	opWrite                    // write(Slot, Len bytes of Seed) at the descriptor's offset
	opPread                    // pread(Slot, Len, Off)
	opRead                     // read(Slot, Len) at the descriptor's offset
	opFtruncate                // ftruncate(Slot, Off)
	opTruncate                 // truncate(Path, Off)
	opFsync                    // fsync(Slot)
	opClose                    // close(Slot)
	opDup                      // Slot2 = dup(Slot)
	opForkClose                // a child process inherits Slot and exits
	opRename                   // rename(Path, Path2)
	opUnlink                   // unlink(Path)
	opMkdir                    // mkdir(Path, 0755)
	opRmdir                    // rmdir(Path)
	opSymlink                  // symlink(Text, Path)
	opChmod                    // chmod(Path, Mode)
	opChown                    // chown(Path, UID, GID)
	opUtimes                   // utimes(Path, Time, Time)
	opLink                     // link(Path, Path2): EPERM on the mount
	opMkfifo                   // mknod(Path, S_IFIFO|Mode)
	opMknod                    // mknod(Path, S_IFCHR|Mode, Dev) (root only)
	opSocket                   // bind() of a unix socket at Path, closed at once
	opLchown                   // lchown(Path, UID, GID)
	opLutimes                  // utimensat(Path, Time, AT_SYMLINK_NOFOLLOW)
	opRemount                  // close every slot, unmount, mount again
	opSDKPut                   // another client puts Len bytes of Seed at Path (with Mode, UID, GID, Time as ossfs metadata if Mode != 0)
	opSDKDelete                // another client deletes Path
	opSDKSymlink               // another client links Path to the key Path2
	opTick                     // wait for the wall clock's next second (TestModelRegressions only)
	numOpKinds
)

var opNames = [...]string{
	"open", "pwrite", "write", "pread", "read", "ftruncate", "truncate", "fsync", "close", "dup",
	"fork-close", "rename", "unlink", "mkdir", "rmdir", "symlink", "chmod", "chown", "utimes",
	"link", "mkfifo", "mknod", "socket", "lchown", "lutimes", "remount", "sdk-put", "sdk-delete", "sdk-symlink", "tick",
}

func (k opKind) String() string { return opNames[k] }

// rootMark in a symlink text stands for the absolute path of the side's
// root (the model directory or the mountpoint).
const rootMark = "$ROOT"

// nslots is the number of descriptor slots.
const nslots = 6

type op struct {
	Kind     opKind
	Path     string // relative to the root
	Path2    string // rename/link destination; sdk-symlink target key
	Slot     int
	Slot2    int // dup destination
	Flags    int
	Mode     uint32
	Off, Len int64
	Seed     uint32 // content of a write or sdk-put
	UID, GID int
	Time     int64 // utimes, Unix seconds
	Dev      int   // mknod's device number
	Text     string
}

func (o op) String() string {
	switch o.Kind {
	case opOpen:
		return fmt.Sprintf("open [%d] %q %s %#o", o.Slot, o.Path, flagString(o.Flags), o.Mode)
	case opPwrite:
		return fmt.Sprintf("pwrite [%d] off=%d len=%d seed=%d", o.Slot, o.Off, o.Len, o.Seed)
	case opWrite:
		return fmt.Sprintf("write [%d] len=%d seed=%d", o.Slot, o.Len, o.Seed)
	case opPread:
		return fmt.Sprintf("pread [%d] off=%d len=%d", o.Slot, o.Off, o.Len)
	case opRead:
		return fmt.Sprintf("read [%d] len=%d", o.Slot, o.Len)
	case opFtruncate:
		return fmt.Sprintf("ftruncate [%d] %d", o.Slot, o.Off)
	case opTruncate:
		return fmt.Sprintf("truncate %q %d", o.Path, o.Off)
	case opFsync, opClose, opForkClose:
		return fmt.Sprintf("%s [%d]", o.Kind, o.Slot)
	case opDup:
		return fmt.Sprintf("dup [%d] -> [%d]", o.Slot, o.Slot2)
	case opRename, opLink:
		return fmt.Sprintf("%s %q %q", o.Kind, o.Path, o.Path2)
	case opSymlink:
		return fmt.Sprintf("symlink %q <- %q", o.Text, o.Path)
	case opChmod:
		return fmt.Sprintf("chmod %q %#o", o.Path, o.Mode)
	case opChown, opLchown:
		return fmt.Sprintf("%s %q %d:%d", o.Kind, o.Path, o.UID, o.GID)
	case opUtimes, opLutimes:
		return fmt.Sprintf("%s %q %d", o.Kind, o.Path, o.Time)
	case opMkfifo, opSocket:
		return fmt.Sprintf("%s %q %#o", o.Kind, o.Path, o.Mode)
	case opMknod:
		return fmt.Sprintf("mknod %q c %#o %d:%d", o.Path, o.Mode, unix.Major(uint64(o.Dev)), unix.Minor(uint64(o.Dev)))
	case opRemount:
		return "remount"
	case opSDKPut:
		if o.Mode != 0 {
			return fmt.Sprintf("sdk-put %q len=%d seed=%d meta mode=%#o uid=%d gid=%d mtime=%d",
				o.Path, o.Len, o.Seed, o.Mode, o.UID, o.GID, o.Time)
		}
		return fmt.Sprintf("sdk-put %q len=%d seed=%d", o.Path, o.Len, o.Seed)
	case opSDKSymlink:
		return fmt.Sprintf("sdk-symlink %q -> key %q", o.Path, o.Path2)
	default:
		return fmt.Sprintf("%s %q", o.Kind, o.Path)
	}
}

func flagString(f int) string {
	var s []string
	switch f & syscall.O_ACCMODE {
	case syscall.O_RDONLY:
		s = append(s, "O_RDONLY")
	case syscall.O_WRONLY:
		s = append(s, "O_WRONLY")
	default:
		s = append(s, "O_RDWR")
	}
	for _, fl := range []struct {
		bit  int
		name string
	}{{syscall.O_CREAT, "O_CREAT"}, {syscall.O_EXCL, "O_EXCL"}, {syscall.O_TRUNC, "O_TRUNC"}, {syscall.O_APPEND, "O_APPEND"}} {
		if f&fl.bit != 0 {
			s = append(s, fl.name)
		}
	}
	return strings.Join(s, "|")
}

// content returns n deterministic bytes for seed: different seeds give
// different bytes, so a write landing at the wrong offset shows.
func content(seed uint32, n int64) []byte {
	b := make([]byte, n)
	x := seed*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// side is one of the two file systems an op runs on: the model directory or
// the mount.
type side struct {
	root   string
	forker *forker
	fds    [nslots]int // -1: empty
	wr     [nslots]bool
}

func newSide(root string, f *forker) *side {
	s := &side{root: root, forker: f}
	for i := range s.fds {
		s.fds[i] = -1
	}
	return s
}

func (s *side) path(rel string) string {
	if rel == "" {
		return s.root
	}
	return s.root + "/" + rel
}

// result is what a call returned: errno, a count, bytes read.
type result struct {
	errno syscall.Errno
	n     int
	data  []byte
}

func (r result) String() string {
	s := "ok"
	if r.errno != 0 {
		s = fmt.Sprintf("%s (%d)", unix.ErrnoName(r.errno), int(r.errno))
	}
	if r.n != 0 {
		s += fmt.Sprintf(" n=%d", r.n)
	}
	return s
}

func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO
}

// retryEINTR retries call while it fails with EINTR, as Go's os package
// and most programs do for read(2) and write(2): the mount lets a signal
// interrupt a read's or a write's wait for OSS (docs/semantics.md,
// "Errors"; the test process gets signals of its own: Go's preemption,
// SIGCHLD from the forker), which a local file never does.
func retryEINTR(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// do runs o on s. The op's precondition (a slot holds a descriptor) was
// checked by the caller.
func (s *side) do(o op) result {
	p, fd := s.path(o.Path), s.fds[o.Slot]
	var err error
	var n int
	switch o.Kind {
	case opOpen:
		var nfd int
		if nfd, err = syscall.Open(p, o.Flags|syscall.O_CLOEXEC, o.Mode); err == nil {
			s.fds[o.Slot], s.wr[o.Slot] = nfd, o.Flags&syscall.O_ACCMODE != syscall.O_RDONLY
		}
	case opPwrite:
		n, err = retryEINTR(func() (int, error) { return syscall.Pwrite(fd, content(o.Seed, o.Len), o.Off) })
	case opWrite:
		n, err = retryEINTR(func() (int, error) { return syscall.Write(fd, content(o.Seed, o.Len)) })
	case opPread:
		buf := make([]byte, o.Len)
		n, err = retryEINTR(func() (int, error) { return syscall.Pread(fd, buf, o.Off) })
		if n > 0 {
			return result{errno: errnoOf(err), n: n, data: buf[:n]}
		}
	case opRead:
		buf := make([]byte, o.Len)
		n, err = retryEINTR(func() (int, error) { return syscall.Read(fd, buf) })
		if n > 0 {
			return result{errno: errnoOf(err), n: n, data: buf[:n]}
		}
	case opFtruncate:
		err = syscall.Ftruncate(fd, o.Off)
	case opTruncate:
		err = syscall.Truncate(p, o.Off)
	case opFsync:
		err = syscall.Fsync(fd)
	case opClose:
		err = syscall.Close(fd)
		s.fds[o.Slot] = -1
	case opDup:
		var nfd int
		// With close-on-exec, as Go opens: only fork-close hands a
		// descriptor to a child.
		if nfd, err = unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0); err == nil {
			s.fds[o.Slot2], s.wr[o.Slot2] = nfd, s.wr[o.Slot]
		}
	case opForkClose:
		err = s.forker.forkClose(fd)
	case opRename:
		err = syscall.Rename(p, s.path(o.Path2))
	case opUnlink:
		err = syscall.Unlink(p)
	case opMkdir:
		err = syscall.Mkdir(p, 0o755)
	case opRmdir:
		err = syscall.Rmdir(p)
	case opSymlink:
		err = syscall.Symlink(strings.ReplaceAll(o.Text, rootMark, s.root), p)
	case opChmod:
		err = syscall.Chmod(p, o.Mode)
	case opChown:
		err = syscall.Chown(p, o.UID, o.GID)
	case opUtimes:
		ts := syscall.NsecToTimespec(o.Time * 1e9)
		err = syscall.UtimesNano(p, []syscall.Timespec{ts, ts})
	case opLink:
		err = syscall.Link(p, s.path(o.Path2))
	case opMkfifo:
		err = syscall.Mknod(p, syscall.S_IFIFO|o.Mode, 0)
	case opMknod:
		err = syscall.Mknod(p, syscall.S_IFCHR|o.Mode, o.Dev)
	case opSocket:
		err = bindSocket(p)
	case opLchown:
		err = syscall.Lchown(p, o.UID, o.GID)
	case opLutimes:
		ts := unix.NsecToTimespec(o.Time * 1e9)
		err = unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
	default:
		panic("side.do: " + o.Kind.String())
	}
	return result{errno: errnoOf(err), n: n}
}

// bindSocket binds a unix socket at p and closes it, which leaves the
// socket's name. sun_path holds 108 bytes, less than a path under the test's
// temp directories: the socket is bound through /proc/self/fd/N of p's
// directory instead.
func bindSocket(p string) error {
	dir, err := syscall.Open(filepath.Dir(p), unix.O_PATH|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(dir)
	sock, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(sock)
	return syscall.Bind(sock, &syscall.SockaddrUnix{Name: fmt.Sprintf("/proc/self/fd/%d/%s", dir, filepath.Base(p))})
}

// forker hands descriptors to a helper process that forks a child which
// inherits the descriptor and exits (closing it), then closes its own copy:
// the FUSE flushes of another process while this one keeps the file open.
// The helper is started before any file on the mount is open, and is not
// a fork of this process at the time of the call: a process serving a FUSE
// mount cannot fork-exec while it has files of that mount open (the
// child's exec flushes them, and a stop-the-world of the Go runtime then
// waits for the forking thread: a deadlock no real ossfs, a separate
// process, can meet).
type forker struct {
	mu   sync.Mutex // one request at a time
	cmd  *exec.Cmd
	sock *os.File
}

const forkerScript = `
import os, socket
s = socket.socket(fileno=3)
while True:
    msg, fds, _, _ = socket.recv_fds(s, 1, 1)
    if not msg:
        break
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    for fd in fds:
        os.close(fd)
    s.send(b"k")
`

func startForker() (*forker, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	mine, theirs := os.NewFile(uintptr(fds[0]), "forker"), os.NewFile(uintptr(fds[1]), "forker-helper")
	defer theirs.Close()
	cmd := exec.Command("python3", "-c", forkerScript)
	cmd.ExtraFiles = []*os.File{theirs}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		mine.Close()
		return nil, err
	}
	return &forker{cmd: cmd, sock: mine}, nil
}

// forkClose returns once the child and the helper have closed fd.
func (f *forker) forkClose(fd int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := syscall.Sendmsg(int(f.sock.Fd()), []byte{1}, syscall.UnixRights(fd), nil, 0); err != nil {
		return fmt.Errorf("fork-close helper: %w", err)
	}
	ack := make([]byte, 1)
	if n, err := f.sock.Read(ack); n != 1 || err != nil {
		return fmt.Errorf("fork-close helper did not answer: %v", err)
	}
	return nil
}

func (f *forker) close() {
	f.sock.Close()
	f.cmd.Wait()
}
