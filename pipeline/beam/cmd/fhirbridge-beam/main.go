// Command fhirbridge-beam converts HL7 v2, C-CDA and EDIFACT files to FHIR R4 Bundles on Apache
// Beam. By default it runs on Beam's embedded Prism runner, on this machine:
//
//	fhirbridge-beam --input 'in/*.hl7' --output out/bundles --dead_letters out/dead
//
// and on a cluster with --runner=flink|spark|dataflow (see pipeline/beam/README.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
	fhirbeam "github.com/fhirbridge/fhirbridge/pipeline/beam"
)

var (
	input       = flag.String("input", "", "glob of the input files (local path, gs://...)")
	output      = flag.String("output", "", "prefix of the Bundle NDJSON shards: PREFIX-00000-of-NNNNN.ndjson")
	deadLetters = flag.String("dead_letters", "", "prefix of the dead-letter NDJSON shards (default: OUTPUT-dead-letters)")
	shards      = flag.Int("shards", 8, "number of Bundle output shards")
	mappingDirs = flag.String("mappings", "", "comma-separated folders of mapping overlays, read here and shipped to the workers")
	bundleType  = flag.String("bundle_type", "", "transaction, batch, collection, message or document (default: the mapping's own)")
	timeZone    = flag.String("time_zone", "", "IANA zone of timestamps without an offset (default UTC)")
	fullURLBase = flag.String("full_url_base", "", "base for fullUrls instead of urn:uuid")
	maxMessage  = flag.Int("max_message_size", 0, "largest message in bytes (default 64 MiB)")
	perRecord   = flag.Int("messages_per_record", 0, "HL7 v2 messages that travel together through the shuffle (default 64)")
	cpuProfile  = flag.String("cpu_profile", "", "write a CPU profile of this process (with --runner=prism: runner and workers) to this file")
)

func main() {
	flag.Parse()
	beam.Init()
	if *input == "" || *output == "" {
		fmt.Fprintln(os.Stderr, "usage: fhirbridge-beam --input GLOB --output PREFIX [--dead_letters PREFIX] [--runner=prism|flink|spark|dataflow ...]")
		os.Exit(2)
	}
	if *deadLetters == "" {
		*deadLetters = *output + "-dead-letters"
	}
	cfg := fhirbeam.Config{BundleType: *bundleType, TimeZone: *timeZone, FullURLBase: *fullURLBase, MaxMessageSize: *maxMessage, MessagesPerRecord: *perRecord}
	for _, dir := range strings.Split(*mappingDirs, ",") {
		if dir == "" {
			continue
		}
		o, err := fhirbeam.LoadOverlay(os.DirFS(dir))
		if err != nil {
			fmt.Fprintln(os.Stderr, "fhirbridge-beam:", err)
			os.Exit(1)
		}
		cfg.Mappings = append(cfg.Mappings, o)
	}
	// Compile once here too, so a mapping error is reported before any job is submitted.
	if err := fhirbeam.Check(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "fhirbridge-beam:", err)
		os.Exit(1)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fhirbridge-beam:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	p, s := beam.NewPipelineWithRoot()
	fhirbeam.Run(s, *input, *output, *deadLetters, *shards, cfg)
	ctx := context.Background()
	start := time.Now()
	res, err := beamx.RunWithMetrics(ctx, p)
	if err != nil {
		log.Exitf(ctx, "fhirbridge-beam: %v", err)
	}
	elapsed := time.Since(start)
	if res == nil {
		return
	}
	// Counters are reported per step; add them up by name.
	sums := map[string]int64{}
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Namespace() == "fhirbridge" {
			sums[c.Name()] += c.Result()
		}
	}
	names := slices.Sorted(maps.Keys(sums))
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "%-28s %d\n", n, sums[n])
	}
	if m := sums["messages"]; m > 0 {
		fmt.Fprintf(os.Stderr, "%d messages in %v: %.0f messages/s\n", m, elapsed.Round(time.Millisecond), float64(m)/elapsed.Seconds())
	}
}
