// Package fhirbeam runs fhirbridge conversions as an Apache Beam pipeline: files matched by a
// glob are split into messages (so one huge HL7 v2 batch file spreads over every worker),
// reshuffled, converted by a DoFn that compiles the mappings once per worker, and written as
// sharded NDJSON Bundles. Every message that cannot be converted becomes a dead-letter record
// (file, message index, control id, kind, reason — never patient data) in a second output;
// one bad message never fails the job.
//
// It lives in its own module so that the fhirbridge library never depends on Beam.
package fhirbeam

import (
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"
)

// Config is what the pipeline needs besides its input and outputs.
type Config struct {
	// Mappings are the overlay folders layered over the built-in mappings, in order, each as
	// a map of slash-separated file names to contents (see [LoadOverlay]). They travel inside
	// the DoFn, so workers need no access to the folders.
	Mappings []Overlay
	// BundleType, TimeZone (an IANA name), FullURLBase and MaxMessageSize are passed to
	// fhirbridge.Options.
	BundleType     string
	TimeZone       string
	FullURLBase    string
	MaxMessageSize int
	// MessagesPerRecord is how many consecutive HL7 v2 messages of a file travel together
	// through the shuffle to one converter call; 0 means 64.
	MessagesPerRecord int
}

// Convert builds the conversion part of the pipeline over the files matched by glob. It
// returns the Bundles (one compact JSON line each) and the dead letters (one JSON line each).
func Convert(s beam.Scope, glob string, cfg Config) (bundles, dead beam.PCollection) {
	s = s.Scope("fhirbridge")
	files := fileio.MatchFiles(s, glob, fileio.MatchEmptyAllowIfWildcard())
	readable := fileio.ReadMatches(s, files)
	recs, splitDead := beam.ParDo2(s, &splitFn{MaxMessageSize: cfg.MaxMessageSize, MessagesPerRecord: cfg.MessagesPerRecord}, readable)
	// The shuffle that spreads the messages of one big file over all workers.
	recs = beam.Reshuffle(s, recs)
	bundles, convDead := beam.ParDo2(s, newConvertFn(cfg), recs)
	dead = beam.Flatten(s, splitDead, convDead)
	return bundles, dead
}

// Run is [Convert] followed by [WriteNDJSON] of both outputs: Bundles to
// output-SSSSS-of-NNNNN.ndjson and dead letters to deadLetters-SSSSS-of-NNNNN.ndjson.
func Run(s beam.Scope, glob, output, deadLetters string, shards int, cfg Config) {
	bundles, dead := Convert(s, glob, cfg)
	WriteNDJSON(s.Scope("bundles"), output, shards, bundles)
	WriteNDJSON(s.Scope("dead-letters"), deadLetters, max(1, shards/4), dead)
}
