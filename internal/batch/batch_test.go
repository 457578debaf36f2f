package batch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/internal/hl7gen"
)

// corpus is a generated input folder and what it must produce.
type corpus struct {
	dir      string
	good     map[string]bool // control ids that must convert
	bad      int             // messages (or files) that must fail
	messages int
}

// writeCorpus writes plain files, an MLLP capture, an LF file, a file of no known format and
// an empty file; about 1% of the messages are malformed or unsupported.
func writeCorpus(t *testing.T, n int) *corpus {
	t.Helper()
	g, err := hl7gen.New()
	if err != nil {
		t.Fatal(err)
	}
	c := &corpus{dir: t.TempDir(), good: map[string]bool{}}
	files := map[string]*bytes.Buffer{"a.hl7": {}, "sub/b.mllp": {}, "sub/deeper/c.hl7": {}}
	names := []string{"a.hl7", "sub/b.mllp", "sub/deeper/c.hl7"}
	for i := range n {
		name := names[i%3]
		f := hl7gen.FaultFor(i)
		m := g.Message(i, f)
		switch name {
		case "sub/b.mllp":
			files[name].WriteByte(0x0B)
			files[name].Write(m)
			files[name].Write([]byte{0x1C, 0x0D})
		case "sub/deeper/c.hl7":
			files[name].Write(bytes.ReplaceAll(m, []byte("\r"), []byte("\r\n")))
		default:
			files[name].Write(m)
		}
		c.messages++
		if f == hl7gen.None {
			c.good[hl7gen.ControlID(i)] = true
		} else {
			c.bad++
		}
	}
	files["junk.txt"] = bytes.NewBufferString("this is not a message\n")
	files["empty.hl7"] = &bytes.Buffer{}
	c.bad++
	c.messages++
	for name, b := range files {
		p := filepath.Join(c.dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// raceFactor shrinks the corpora under the race detector, which is about ten times slower.
var raceFactor = 1

var controlIDRE = regexp.MustCompile(`messageheader-control-id","valueString":"([^"]+)"`)

// readOutputs returns how often each control id occurs in the NDJSON files and the error
// records.
func readOutputs(t *testing.T, out string) (ids map[string]int, errs []ErrorRecord) {
	t.Helper()
	ids = map[string]int{}
	files, _ := filepath.Glob(filepath.Join(out, "bundles*.ndjson"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			m := controlIDRE.FindSubmatch(sc.Bytes())
			if m == nil {
				t.Fatalf("%s: a line without a control id: %.300s", f, sc.Bytes())
			}
			ids[string(m[1])]++
		}
	}
	data, _ := os.ReadFile(filepath.Join(out, "errors.jsonl"))
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r ErrorRecord
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("errors.jsonl: %v: %s", err, line)
		}
		errs = append(errs, r)
	}
	return ids, errs
}

// check asserts that every message is in exactly one place.
func (c *corpus) check(t *testing.T, out string, s *Summary) {
	t.Helper()
	ids, errs := readOutputs(t, out)
	for id, n := range ids {
		if n != 1 {
			t.Errorf("control id %s written %d times", id, n)
		}
		if !c.good[id] {
			t.Errorf("control id %s converted but should have failed", id)
		}
	}
	for id := range c.good {
		if ids[id] == 0 {
			t.Errorf("control id %s missing", id)
		}
	}
	if len(errs) != c.bad {
		t.Errorf("error report has %d records, want %d", len(errs), c.bad)
	}
	seen := map[[2]any]bool{}
	for _, r := range errs {
		k := [2]any{r.File, r.Index}
		if seen[k] {
			t.Errorf("error reported twice: %+v", r)
		}
		seen[k] = true
		if r.Index >= 0 && filepath.Ext(r.File) != ".txt" && (!strings.HasPrefix(r.ControlID, "GEN-") || r.MessageType == "") {
			t.Errorf("error record does not name its message: %+v", r)
		}
		if r.Reason == "" || r.Kind == "" {
			t.Errorf("error record without kind or reason: %+v", r)
		}
		if bytes.Contains([]byte(r.Reason+r.Location), []byte("Okafor")) {
			t.Errorf("error record holds patient data: %+v", r)
		}
	}
	if s != nil {
		if s.Converted+s.Failed != int64(c.messages) || s.Converted != int64(len(c.good)) {
			t.Errorf("summary: %d converted + %d failed, want %d + %d", s.Converted, s.Failed, len(c.good), c.bad)
		}
	}
}

func newConv(t *testing.T) *fhirbridge.Converter {
	conv, err := fhirbridge.New(fhirbridge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return conv
}

func TestRunCorpus(t *testing.T) {
	c := writeCorpus(t, 600/raceFactor)
	inputs, err := Expand([]string{c.dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) != 5 {
		t.Fatalf("Expand found %d files, want 5", len(inputs))
	}
	out, dl := t.TempDir(), t.TempDir()
	s, err := Run(context.Background(), newConv(t), inputs, Options{Out: out, Workers: 2, DeadLetter: dl, ShardSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	c.check(t, out, s)
	if s.Interrupted || s.Resumed != 0 {
		t.Errorf("summary: %+v", s)
	}
	var dead int
	filepath.WalkDir(dl, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			dead++
		}
		return nil
	})
	if dead != c.bad {
		t.Errorf("%d dead letters, want %d", dead, c.bad)
	}
	// A second run into the same folder must be asked for.
	if _, err := Run(context.Background(), newConv(t), inputs, Options{Out: out}); err == nil {
		t.Error("a second run into a used folder was not refused")
	}
	// Resuming a finished run converts nothing again.
	s2, err := Run(context.Background(), newConv(t), inputs, Options{Out: out, Resume: true, ShardSize: 100, DeadLetter: dl})
	if err != nil {
		t.Fatal(err)
	}
	if s2.Resumed != int64(c.messages) || s2.Messages != int64(c.messages) {
		t.Errorf("resume of a finished run: %+v", s2)
	}
	c.check(t, out, s2)
}

func TestRunOrdered(t *testing.T) {
	c := writeCorpus(t, 300/raceFactor)
	inputs, _ := Expand([]string{c.dir})
	var outs [2][]byte
	for i := range outs {
		out := t.TempDir()
		if _, err := Run(context.Background(), newConv(t), inputs, Options{Out: out, Workers: 3, Ordered: true}); err != nil {
			t.Fatal(err)
		}
		outs[i], _ = os.ReadFile(filepath.Join(out, "bundles.ndjson"))
		c.check(t, out, nil)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("two --ordered runs wrote different outputs")
	}
}

func TestResume(t *testing.T) {
	for _, tt := range []struct {
		name  string
		crash bool // as a kill: no final checkpoint, bytes written after the last one
		per   string
	}{
		{name: "interrupt", per: ""},
		{name: "kill", crash: true, per: ""},
		{name: "kill-per-input", crash: true, per: "input"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := writeCorpus(t, 500/raceFactor)
			inputs, _ := Expand([]string{c.dir})
			out := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			opts := Options{Out: out, Workers: 2, Per: tt.per, ShardSize: 120 / raceFactor}
			first := opts
			first.CheckpointEvery = 1 << 62 // checkpoints only at commit 150 (below) and the end
			var cp func() error
			first.afterCommit = func(n int64) {
				if n == int64(100/raceFactor) && cp != nil {
					if err := cp(); err != nil {
						t.Error(err)
					}
				}
				if n == int64(250/raceFactor) {
					cancel()
				}
			}
			if tt.crash {
				first.crashAt = int64(250 / raceFactor)
			}
			cp = checkpointHook(&first)
			s, err := Run(ctx, newConv(t), inputs, first)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Interrupted {
				t.Fatal("the first run was not interrupted")
			}
			if s.Converted+s.Failed >= int64(c.messages) {
				t.Fatalf("the first run did everything (%d); the test proves nothing", s.Converted+s.Failed)
			}
			if _, err := Run(context.Background(), newConv(t), inputs, Options{Out: out, Per: tt.per}); err == nil {
				t.Fatal("resume with other output options was not refused")
			}
			opts.Resume = true
			s2, err := Run(context.Background(), newConv(t), inputs, opts)
			if err != nil {
				t.Fatal(err)
			}
			if s2.Resumed == 0 || s2.Interrupted {
				t.Errorf("second run: %+v", s2)
			}
			if tt.per == "input" {
				// Gather the per-input files as if they were shards.
				var all []byte
				filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
					if err == nil && filepath.Ext(p) == ".ndjson" {
						b, _ := os.ReadFile(p)
						all = append(all, b...)
					}
					return nil
				})
				os.WriteFile(filepath.Join(out, "bundles-all.ndjson"), all, 0o644)
			}
			c.check(t, out, s2)
		})
	}
}

// checkpointHook lets a test take a checkpoint from inside the committer (afterCommit runs
// on its goroutine). It is wired up through the committer the run creates.
func checkpointHook(o *Options) func() error {
	var c *committer
	o.onCommitter = func(cc *committer) { c = cc }
	return func() error { return c.checkpoint() }
}
