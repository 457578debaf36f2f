package batch

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/fhirbridge/fhirbridge"
)

// outFile is an output file appended to by the committer.
type outFile struct {
	rel  string
	f    *os.File
	w    *bufio.Writer
	size int64 // bytes written, buffered ones included
}

func (o *outFile) write(p []byte) error {
	n, err := o.w.Write(p)
	o.size += int64(n)
	return err
}

func (o *outFile) sync() error {
	if err := o.w.Flush(); err != nil {
		return err
	}
	return o.f.Sync()
}

// committer writes every outcome and owns the journal. Only its goroutine touches it, except
// for the atomic progress counters.
type committer struct {
	opts     Options
	inputs   []Input
	j        *journal
	done     []doneSet
	total    []int // items per input, -1 until read
	ferr     []error
	complete []bool
	start    []bool // complete when the run started
	resumed  int64

	outs        map[string]*outFile // open outputs by name relative to Out
	bundles     *outFile            // the NDJSON stream (Per "")
	perInput    map[int]*outFile
	errs        *outFile
	pending     []string // files written since the last checkpoint, to fsync then
	pendingDirs map[string]bool

	ordered map[int64]*item
	next    int64
	commits int64
	crashed bool

	converted, failed atomic.Int64 // for progress
}

// maxWholeDeadLetter bounds the copy of a whole input of another format as a dead letter.
const maxWholeDeadLetter = 64 << 20

var shardName = regexp.MustCompile(`^bundles-(\d{5})\.ndjson$`)

func newCommitter(inputs []Input, opts Options) (*committer, error) {
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, err
	}
	fp := fmt.Sprintf("per=%s shard=%d pretty=%t %s", opts.Per, opts.ShardSize, opts.Pretty, opts.Fingerprint)
	c := &committer{opts: opts, inputs: inputs, outs: map[string]*outFile{}, perInput: map[int]*outFile{},
		pendingDirs: map[string]bool{}, ordered: map[int64]*item{},
		done: make([]doneSet, len(inputs)), total: make([]int, len(inputs)), ferr: make([]error, len(inputs)),
		complete: make([]bool, len(inputs)), start: make([]bool, len(inputs))}
	j, err := readJournal(opts.Out)
	switch {
	case err == nil && opts.Resume:
		if j.Fingerprint != fp {
			return nil, fmt.Errorf("%s holds a run with other output options (%s); resume it with the same flags", opts.Out, j.Fingerprint)
		}
	case err == nil && !opts.Overwrite:
		return nil, fmt.Errorf("%s holds an earlier run: use --resume to continue it, or --overwrite to start again", opts.Out)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, err
	default:
		if !opts.Overwrite && !opts.Resume {
			for _, name := range []string{"bundles.ndjson", "errors.jsonl", "summary.json"} {
				if _, err := os.Stat(filepath.Join(opts.Out, name)); err == nil {
					return nil, fmt.Errorf("%s already holds %s: use --overwrite to replace it", opts.Out, name)
				}
			}
		}
		j = nil
	}
	if j == nil {
		j = &journal{Version: 1, Fingerprint: fp, Outputs: map[string]int64{}, Inputs: map[string]*journalInput{},
			Counts: Counts{ByType: map[string]*TypeCounts{}}}
		os.Remove(filepath.Join(opts.Out, "summary.json"))
		if ents, err := os.ReadDir(opts.Out); err == nil {
			for _, e := range ents {
				if shardName.MatchString(e.Name()) {
					os.Remove(filepath.Join(opts.Out, e.Name()))
				}
			}
		}
	}
	if j.Counts.ByType == nil {
		j.Counts.ByType = map[string]*TypeCounts{}
	}
	c.j = j
	// Outputs are trusted up to the committed sizes only.
	for rel, size := range j.Outputs {
		if err := os.Truncate(filepath.Join(opts.Out, rel), size); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if ents, err := os.ReadDir(opts.Out); err == nil {
		for _, e := range ents {
			if m := shardName.FindStringSubmatch(e.Name()); m != nil {
				if n, _ := strconv.Atoi(m[1]); n > j.Shard {
					os.Remove(filepath.Join(opts.Out, e.Name()))
				}
			}
		}
	}
	for i, in := range inputs {
		c.total[i] = -1
		ji := j.Inputs[in.Path]
		if ji == nil {
			j.Inputs[in.Path] = &journalInput{Size: in.Size, ModTime: in.ModTime}
			continue
		}
		if ji.Size != in.Size || !ji.ModTime.Equal(in.ModTime) {
			return nil, fmt.Errorf("%s changed since the interrupted run; start again without --resume", in.Path)
		}
		c.done[i] = doneFromJournal(ji)
		c.resumed += int64(c.done[i].count())
		if ji.Complete {
			c.complete[i], c.start[i], c.total[i] = true, true, ji.Items
		}
	}
	return c, nil
}

// snapshot copies the committed sets for the reader, which must not share them.
func (c *committer) snapshot() []doneSet {
	s := make([]doneSet, len(c.done))
	for i, d := range c.done {
		s[i].prefix = d.prefix
		for k := range d.extra {
			s[i].add(k)
		}
	}
	return s
}

func (c *committer) completeAtStart() []bool { return append([]bool(nil), c.start...) }

func (c *committer) pendingBytes(inputs []Input) int64 {
	var n int64
	for _, in := range inputs {
		n += in.Size
	}
	return n
}

// loop commits the items of results until it is closed, taking checkpoints.
func (c *committer) loop(results <-chan *item, tokens chan struct{}) error {
	tick := time.NewTicker(c.opts.CheckpointEvery)
	defer tick.Stop()
	drain := func() {
		go func() {
			for range results {
				<-tokens
			}
		}()
	}
	for {
		select {
		case it, ok := <-results:
			if !ok {
				if c.crashed {
					return nil
				}
				return c.checkpoint()
			}
			if c.crashed {
				<-tokens
				continue
			}
			if !c.opts.Ordered {
				err := c.commit(it)
				<-tokens
				if err != nil {
					drain()
					return err
				}
				continue
			}
			c.ordered[it.seq] = it
			for {
				it := c.ordered[c.next]
				if it == nil {
					break
				}
				delete(c.ordered, c.next)
				c.next++
				err := c.commit(it)
				<-tokens
				if err != nil {
					drain()
					return err
				}
			}
		case <-tick.C:
			if !c.crashed {
				if err := c.checkpoint(); err != nil {
					drain()
					return err
				}
			}
		}
	}
}

// commit writes one outcome.
func (c *committer) commit(it *item) error {
	in := c.inputs[it.in]
	if it.eof {
		c.total[it.in] = it.idx
		if it.ferr != nil {
			c.ferr[it.in] = it.ferr
			c.j.Counts.FileErrors++
			c.failed.Add(1)
			rec := ErrorRecord{File: in.Path, Index: -1, Kind: "read", Reason: it.ferr.Error()}
			if err := c.writeError(rec); err != nil {
				return err
			}
			c.opts.Logger.Error("input failed", "file", in.Path, "err", it.ferr)
		}
		return c.maybeComplete(it.in)
	}
	d := &c.done[it.in]
	if d.has(it.idx) {
		return nil // cannot happen: the reader skips committed items
	}
	counts := &c.j.Counts
	tc := counts.ByType[typeKey(it.typ)]
	if tc == nil {
		tc = &TypeCounts{}
		counts.ByType[typeKey(it.typ)] = tc
	}
	counts.Messages++
	if it.err != nil {
		counts.Failed++
		tc.Failed++
		c.failed.Add(1)
		rec := describe(in, it)
		if c.opts.DeadLetter != "" {
			name := messageFileName(in, it.idx, deadLetterExt(it.fmt))
			data := it.span
			if data == nil && it.fmt != fhirbridge.FormatHL7v2 && in.Size <= maxWholeDeadLetter {
				// Other formats are not split here: the input itself is the dead letter.
				data, _ = os.ReadFile(in.Path)
			}
			if data != nil {
				if err := c.writeFile(c.opts.DeadLetter, name, data); err != nil {
					return err
				}
				rec.DeadLetter = filepath.Join(c.opts.DeadLetter, name)
			}
		}
		if err := c.writeError(rec); err != nil {
			return err
		}
		c.opts.Logger.Debug("message failed", "file", in.Path, "index", it.idx, "controlId", rec.ControlID, "kind", rec.Kind, "location", rec.Location, "reason", rec.Reason)
	} else {
		counts.Converted++
		counts.Warnings += int64(it.warns)
		tc.Converted++
		c.converted.Add(1)
		if err := c.writeBundle(it); err != nil {
			return err
		}
	}
	d.add(it.idx)
	c.commits++
	if c.opts.afterCommit != nil {
		c.opts.afterCommit(c.commits)
	}
	if c.opts.crashAt > 0 && c.commits >= c.opts.crashAt {
		// As a kill would: outputs written past the last checkpoint, no final checkpoint.
		for _, o := range c.outs {
			o.w.Flush()
		}
		c.crashed = true
	}
	return c.maybeComplete(it.in)
}

func (c *committer) maybeComplete(i int) error {
	if c.complete[i] || c.total[i] < 0 || c.done[i].count() < c.total[i] {
		return nil
	}
	if o := c.perInput[i]; o != nil {
		if err := c.close(o); err != nil {
			return err
		}
		delete(c.perInput, i)
	}
	if c.ferr[i] == nil {
		c.complete[i] = true
	}
	return nil
}

func (c *committer) writeBundle(it *item) error {
	in := c.inputs[it.in]
	switch c.opts.Per {
	case "message":
		return c.writeFile(c.opts.Out, messageFileName(in, it.idx, ".json"), it.json)
	case "input":
		o := c.perInput[it.in]
		if o == nil {
			var err error
			if o, err = c.open(filepath.FromSlash(in.Name) + ".ndjson"); err != nil {
				return err
			}
			c.perInput[it.in] = o
		}
		o.write(it.json)
		return o.write([]byte{'\n'})
	}
	if c.bundles == nil || c.opts.ShardSize > 0 && c.j.ShardCount >= c.opts.ShardSize {
		if c.bundles != nil {
			if err := c.close(c.bundles); err != nil {
				return err
			}
			c.j.Shard++
			c.j.ShardCount = 0
		}
		name := "bundles.ndjson"
		if c.opts.ShardSize > 0 {
			name = fmt.Sprintf("bundles-%05d.ndjson", c.j.Shard)
		}
		var err error
		if c.bundles, err = c.open(name); err != nil {
			return err
		}
	}
	c.j.ShardCount++
	c.bundles.write(it.json)
	return c.bundles.write([]byte{'\n'})
}

func (c *committer) writeError(rec ErrorRecord) error {
	if c.errs == nil {
		var err error
		if c.errs, err = c.open("errors.jsonl"); err != nil {
			return err
		}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	c.errs.write(b)
	return c.errs.write([]byte{'\n'})
}

// writeFile writes a whole file below dir; it is fsynced at the next checkpoint.
func (c *committer) writeFile(dir, name string, data []byte) error {
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return err
	}
	c.pending = append(c.pending, p)
	c.pendingDirs[filepath.Dir(p)] = true
	return nil
}

// open opens an output for appending: at its committed size if the journal knows it, else
// empty.
func (c *committer) open(rel string) (*outFile, error) {
	p := filepath.Join(c.opts.Out, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	size, known := c.j.Outputs[rel]
	flag := os.O_WRONLY | os.O_CREATE
	if !known {
		flag |= os.O_TRUNC
	}
	f, err := os.OpenFile(p, flag, 0o644)
	if err != nil {
		return nil, err
	}
	if known {
		if err := f.Truncate(size); err != nil {
			f.Close()
			return nil, err
		}
		if _, err := f.Seek(size, 0); err != nil {
			f.Close()
			return nil, err
		}
	} else {
		c.j.Outputs[rel] = 0
		c.pendingDirs[filepath.Dir(p)] = true
	}
	o := &outFile{rel: rel, f: f, w: bufio.NewWriterSize(f, 256<<10), size: size}
	c.outs[rel] = o
	return o, nil
}

// close syncs and closes an output.
func (c *committer) close(o *outFile) error {
	err := o.sync()
	err = errors.Join(err, o.f.Close())
	delete(c.outs, o.rel)
	// Synced: its size is durable, and the next checkpoint records it.
	c.j.Outputs[o.rel] = o.size
	return err
}

// checkpoint makes everything committed so far durable and records it in the journal.
func (c *committer) checkpoint() error {
	for _, o := range c.outs {
		if err := o.sync(); err != nil {
			return err
		}
		c.j.Outputs[o.rel] = o.size
	}
	for _, p := range c.pending {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	c.pending = c.pending[:0]
	for d := range c.pendingDirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	clear(c.pendingDirs)
	for i, in := range c.inputs {
		ji := c.j.Inputs[in.Path]
		ji.Done, ji.Extra = c.done[i].prefix, c.done[i].list()
		ji.Complete = c.complete[i]
		if ji.Complete {
			ji.Items = c.total[i]
		}
	}
	c.j.Updated = time.Now().UTC()
	return c.j.write(c.opts.Out)
}

// finish writes summary.json.
func (c *committer) finish(s *Summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileSync(filepath.Join(c.opts.Out, "summary.json"), append(b, '\n'))
}
