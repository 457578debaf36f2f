package fhirbeam

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func init() {
	register.DoFn2x0[string, func(int, string)](&shardFn{})
	register.Emitter2[int, string]()
	register.DoFn3x1[context.Context, int, func(*string) bool, error](&writeShardFn{})
	register.Iter1[string]()
}

// WriteNDJSON writes lines to prefix-SSSSS-of-NNNNN.ndjson on any
// file system Beam knows (local paths, gs://, s3:// with the matching import). Each element
// is one or more lines; a final newline is added if missing. Beam Go's textio.Write sends
// everything through one key to one file; this spreads the elements over shards by a hash of
// their content, so the shard of a line does not depend on the runner
// and a retried shard rewrites the same file. Shards that receive no line are not written.
func WriteNDJSON(s beam.Scope, prefix string, shards int, col beam.PCollection) {
	s = s.Scope("WriteNDJSON")
	filesystem.ValidateScheme(prefix)
	shards = max(shards, 1)
	keyed := beam.ParDo(s, &shardFn{Shards: shards}, col)
	grouped := beam.GroupByKey(s, keyed)
	beam.ParDo0(s, &writeShardFn{Prefix: prefix, Shards: shards}, grouped)
}

// ShardName is the name of shard i of n.
func ShardName(prefix string, i, n int) string {
	return fmt.Sprintf("%s-%05d-of-%05d.ndjson", prefix, i, n)
}

type shardFn struct {
	Shards int `json:"shards"`
}

func (fn *shardFn) ProcessElement(line string, emit func(int, string)) {
	h := fnv.New32a()
	h.Write([]byte(line))
	emit(int(h.Sum32()%uint32(fn.Shards)), line)
}

type writeShardFn struct {
	Prefix string `json:"prefix"`
	Shards int    `json:"shards"`
}

func (fn *writeShardFn) ProcessElement(ctx context.Context, shard int, lines func(*string) bool) error {
	name := ShardName(fn.Prefix, shard, fn.Shards)
	fsys, err := filesystem.New(ctx, name)
	if err != nil {
		return err
	}
	defer fsys.Close()
	fd, err := fsys.OpenWrite(ctx, name)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(fd, 1<<20)
	var line string
	for lines(&line) {
		w.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			w.WriteByte('\n')
		}
	}
	if err := w.Flush(); err != nil {
		fd.Close()
		return err
	}
	return fd.Close()
}
