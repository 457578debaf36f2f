package batch

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// The journal makes a run resumable without duplicating output. It is the single source of
// truth for what has been committed: the output files are only trusted up to the sizes it
// records. A checkpoint is taken by the committer goroutine (the only writer of outputs):
//
//  1. flush and fsync every open output file (bundles, error report);
//  2. record, in memory, each output file's size, each input's committed message indexes
//     (a prefix count plus the few indexes committed out of order above it) and the counters;
//  3. write that record to journal.json.tmp, fsync it, rename it over journal.json and fsync
//     the folder.
//
// A crash at any point leaves either the old journal or the new one, both consistent with
// the outputs up to their recorded sizes. On --resume every output file is truncated to its
// recorded size (dropping whatever was written after the last checkpoint), output files the
// journal does not know are removed, and each input is read again with the committed
// indexes skipped: every message is written once. Per-message files are named by input and
// index, so writing one again replaces it.
type journal struct {
	Version     int                      `json:"version"`
	Fingerprint string                   `json:"fingerprint"` // the output-shaping options
	Outputs     map[string]int64         `json:"outputs"`     // output file (relative to OUT) -> committed size
	Shard       int                      `json:"shard"`       // current NDJSON shard and its count
	ShardCount  int                      `json:"shardCount"`  //
	Inputs      map[string]*journalInput `json:"inputs"`      // by Input.Path
	Counts      Counts                   `json:"counts"`
	Updated     time.Time                `json:"updated"`
}

type journalInput struct {
	Size     int64     `json:"size"`
	ModTime  time.Time `json:"modTime"`
	Done     int       `json:"done"`            // items [0, Done) are committed
	Extra    []int     `json:"extra,omitempty"` // committed items above Done
	Complete bool      `json:"complete,omitempty"`
	Items    int       `json:"items,omitempty"` // number of items, once complete
}

const journalFile = ".fhirbridge-journal.json"

func readJournal(dir string) (*journal, error) {
	data, err := os.ReadFile(filepath.Join(dir, journalFile))
	if err != nil {
		return nil, err
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("%s: %w", journalFile, err)
	}
	if j.Version != 1 {
		return nil, fmt.Errorf("%s: unknown version %d", journalFile, j.Version)
	}
	if j.Outputs == nil {
		j.Outputs = map[string]int64{}
	}
	if j.Inputs == nil {
		j.Inputs = map[string]*journalInput{}
	}
	return &j, nil
}

// write replaces the journal atomically and durably.
func (j *journal) write(dir string) error {
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, journalFile+".tmp")
	if err := writeFileSync(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, journalFile)); err != nil {
		return err
	}
	return syncDir(dir)
}

// writeFileSync writes a file and fsyncs it before closing.
func writeFileSync(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir fsyncs a folder so that renames and new names in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// doneSet is the set of committed item indexes of one input: a prefix and the indexes
// committed out of order above it (at most about the size of the worker window).
type doneSet struct {
	prefix int
	extra  map[int]struct{}
}

func (d *doneSet) has(i int) bool {
	if i < d.prefix {
		return true
	}
	_, ok := d.extra[i]
	return ok
}

func (d *doneSet) add(i int) {
	if i < d.prefix {
		return
	}
	if i == d.prefix {
		d.prefix++
		for {
			if _, ok := d.extra[d.prefix]; !ok {
				return
			}
			delete(d.extra, d.prefix)
			d.prefix++
		}
	}
	if d.extra == nil {
		d.extra = map[int]struct{}{}
	}
	d.extra[i] = struct{}{}
}

func (d *doneSet) count() int { return d.prefix + len(d.extra) }

func (d *doneSet) list() []int {
	if len(d.extra) == 0 {
		return nil
	}
	l := make([]int, 0, len(d.extra))
	for i := range d.extra {
		l = append(l, i)
	}
	slices.Sort(l)
	return l
}

func doneFromJournal(ji *journalInput) doneSet {
	d := doneSet{prefix: ji.Done}
	for _, i := range ji.Extra {
		d.add(i)
	}
	return d
}
