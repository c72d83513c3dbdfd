package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// The SDK baselines run in a child process (this binary again, told so by
// the environment), so that their CPU time is the SDK's alone: the local
// server runs in this process.

// childEnv names the SDK baseline a child process runs ("read" or
// "write"); the other variables carry its parameters.
const childEnv = "OSSFS_BENCH_SDK_CHILD"

// runChildIfAsked runs the SDK baseline and exits when this process is a
// child; otherwise it returns.
func runChildIfAsked() {
	what := os.Getenv(childEnv)
	if what == "" {
		return
	}
	cpu0, start := selfCPU(), time.Now()
	if err := runChild(what); err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		os.Exit(1)
	}
	fmt.Printf("%d %d\n", time.Since(start), selfCPU()-cpu0)
	os.Exit(0)
}

func runChild(what string) error {
	size, _ := strconv.ParseInt(os.Getenv("OSSFS_BENCH_SIZE"), 10, 64)
	par, _ := strconv.Atoi(os.Getenv("OSSFS_BENCH_PARALLEL"))
	b := &bench{cfg: config{Size: size, SDKParallel: par}}
	b.sdk = oss.NewClient(oss.LoadDefaultConfig().
		WithEndpoint(os.Getenv("OSSFS_BENCH_ENDPOINT")).WithRegion(os.Getenv("OSSFS_BENCH_REGION")).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret)))
	switch what {
	case "read":
		b.cfg.Size = size
		return b.sdkRead()
	case "write":
		c, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		_, err := b.sdk.NewUploader(func(o *oss.UploaderOptions) {
			o.PartSize, o.ParallelNum = ossclient.DefaultPartSize, ossclient.DefaultUploadParallelism
		}).UploadFrom(c, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(os.Getenv("OSSFS_BENCH_KEY"))},
			&patternReader{n: size})
		return err
	}
	return fmt.Errorf("unknown baseline %q", what)
}

// selfCPU is this process's user plus system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sdkChild runs the SDK baseline what ("read" or "write" of key) in a
// child process and sets r's wall and client CPU time to the baseline's
// own (the child's start-up excluded).
func (b *bench) sdkChild(r *Result, what, key string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+what,
		"OSSFS_BENCH_SIZE="+strconv.FormatInt(b.cfg.Size, 10),
		"OSSFS_BENCH_PARALLEL="+strconv.Itoa(b.cfg.SDKParallel),
		"OSSFS_BENCH_ENDPOINT="+b.ep, "OSSFS_BENCH_REGION="+b.srv.Region(),
		"OSSFS_BENCH_KEY="+key)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("SDK %s baseline: %v\n%s", what, err, stderr.String())
	}
	var wall, cpu int64
	if _, err := fmt.Sscan(string(out), &wall, &cpu); err != nil {
		return fmt.Errorf("SDK %s baseline printed %q: %v", what, out, err)
	}
	r.childWall, r.ClientCPU = time.Duration(wall), time.Duration(cpu)
	return nil
}
