package main

import (
	"flag"
	"fmt"
	"github.com/fhirbridge/fhirbridge/internal/suggest"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// configFile is the global --config FILE, read by the subcommands that take settings from it
// (batch, serve). Its sections are named after the subcommands and its keys after their
// flags, so that every flag has a setting and no setting lacks a flag:
//
//	serve:
//	  http: 127.0.0.1:8080
//	  mllp: 127.0.0.1:2575
//	  sink: ndjson:/var/lib/fhirbridge/bundles.ndjson
//	  token-file: /etc/fhirbridge/token
//	batch:
//	  workers: 4
//	  mappings: [/etc/fhirbridge/mappings]
//
// A flag given on the command line wins over the file.
var configFile string

// parseGlobal takes the global flags (--config FILE) off the front of args.
func parseGlobal(args []string) ([]string, error) {
	configFile = ""
	for len(args) > 0 {
		a := args[0]
		switch {
		case a == "--config" || a == "-config":
			if len(args) < 2 {
				return nil, fmt.Errorf("%s needs a file", a)
			}
			configFile, args = args[1], args[2:]
		case strings.HasPrefix(a, "--config="), strings.HasPrefix(a, "-config="):
			configFile, args = a[strings.IndexByte(a, '=')+1:], args[1:]
		default:
			return args, nil
		}
	}
	return args, nil
}

// applyConfig sets the flags of fl that the command line did not set from the section of
// the config file named after the command. An unknown key is an error naming file:line:col.
func applyConfig(fl *flag.FlagSet, section string) error {
	name := configFile
	if name == "" {
		return nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if len(root.Content) == 0 {
		return nil
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d:%d: expected a mapping of command sections (batch:, serve:)", name, doc.Line, doc.Column)
	}
	set := map[string]bool{}
	fl.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		if k.Value != section {
			if !knownSection(k.Value) {
				return fmt.Errorf("%s:%d:%d: unknown section %q (batch, serve)", name, k.Line, k.Column, k.Value)
			}
			continue
		}
		if v.Kind != yaml.MappingNode {
			return fmt.Errorf("%s:%d:%d: %s: expected a mapping of settings", name, v.Line, v.Column, section)
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			key, val := v.Content[j], v.Content[j+1]
			f := fl.Lookup(key.Value)
			if f == nil || key.Value == "config" {
				return fmt.Errorf("%s:%d:%d: unknown setting %q for %s%s", name, key.Line, key.Column, key.Value, section, suggestFlag(fl, key.Value))
			}
			if set[key.Value] {
				continue
			}
			var vals []*yaml.Node
			switch val.Kind {
			case yaml.ScalarNode:
				vals = []*yaml.Node{val}
			case yaml.SequenceNode:
				vals = val.Content
			default:
				return fmt.Errorf("%s:%d:%d: %s: expected a value or a list", name, val.Line, val.Column, key.Value)
			}
			for _, s := range vals {
				if s.Kind != yaml.ScalarNode {
					return fmt.Errorf("%s:%d:%d: %s: expected a value", name, s.Line, s.Column, key.Value)
				}
				if err := fl.Set(key.Value, s.Value); err != nil {
					return fmt.Errorf("%s:%d:%d: %s: %w", name, s.Line, s.Column, key.Value, err)
				}
			}
		}
	}
	return nil
}

func knownSection(s string) bool { return s == "batch" || s == "serve" }

// suggestFlag returns ` (did you mean "x"?)` for the flag nearest to name, or "".
func suggestFlag(fl *flag.FlagSet, name string) string {
	var names []string
	fl.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return suggest.Hint(name, names)
}

// logFlags are the logging flags of the long-running commands.
type logFlags struct {
	level, format string
}

func (l *logFlags) add(fl *flag.FlagSet) {
	fl.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn or error")
	fl.StringVar(&l.format, "log-format", "text", "log format: text or json")
}

// logger returns the slog logger. Logs name files, message indexes, control ids and problem
// locations; they never hold message data.
func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", l.level, err)
	}
	o := &slog.HandlerOptions{Level: lv}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", l.format)
}

// flagNames lists a flag set's flags, sorted, for shell completion.
func flagNames(fl *flag.FlagSet) []string {
	var names []string
	fl.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	return names
}
