package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// print writes the report as a table, one line per workload and latency.
func (rep *Report) print(w io.Writer) {
	fmt.Fprintf(w, "machine: %s\nconfig:  %s\n\n", rep.Machine, rep.Config)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\trow\twall\tMiB/s\tof link\tops/s\tvs SDK\trequests\tGET MiB\tPUT MiB\tpeak RSS\tmount CPU\tCPU-s/GiB\tnote")
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t%s\t%s\t%s\t%s\n",
			r.Workload, r.Latency, r.Wall.Round(time.Millisecond),
			num(r.MiBps), ratio(r.LinkFraction), num(r.OpsPerSec), ratio(r.Ratio), requests(r.Requests),
			float64(r.GetBytes)/(1<<20), float64(r.PutBytes)/(1<<20), rss(r.PeakRSS), cpu(r.MountCPU), cpuPerGiB(r), r.Note)
	}
	tw.Flush()
}

func num(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}

func ratio(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func rss(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%d MiB", b>>20)
}

// requests prints the counts as "Op:N Op:N", biggest first, with the total.
func requests(m map[string]int64) string {
	var total int64
	for _, n := range m {
		total += n
	}
	ops := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		if m[a] != m[b] {
			return int(m[b] - m[a])
		}
		return strings.Compare(a, b)
	})
	parts := []string{fmt.Sprint(total)}
	for _, op := range ops {
		parts = append(parts, fmt.Sprintf("%s:%d", short(op), m[op]))
	}
	return strings.Join(parts, " ")
}

// short abbreviates OSS operation names for the table.
func short(op string) string {
	r := strings.NewReplacer("Object", "", "Multipart", "MP", "Upload", "Up", "Symlink", "Link", "Objects", "")
	return r.Replace(op)
}

func cpu(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(10 * time.Millisecond).String()
}

// cpuPerGiB is the CPU seconds per GiB moved: the mount's, or an SDK
// baseline's own (its process).
func cpuPerGiB(r Result) string {
	c := r.MountCPU
	if c == 0 {
		c = r.ClientCPU
	}
	if c == 0 || r.Bytes < 64<<20 { // per GiB of a few MiB says nothing
		return "-"
	}
	return fmt.Sprintf("%.2f", c.Seconds()/(float64(r.Bytes)/(1<<30)))
}
