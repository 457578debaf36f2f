package main

import (
	"fmt"
	"io"
	"strings"
)

const completionUsage = `Usage: fhirbridge completion bash|zsh

Prints a shell completion script for fhirbridge: commands, subcommands and flags.

  bash:  source <(fhirbridge completion bash)
         or save it as /etc/bash_completion.d/fhirbridge
  zsh:   fhirbridge completion zsh > "${fpath[1]}/_fhirbridge"   (then restart zsh)
`

// completionFlags lists each command's flags. batch and serve come from their flag sets,
// so they cannot drift; the others are listed here.
func completionFlags() map[string][]string {
	return map[string][]string{
		"convert":    {"bundle-type", "mappings", "pretty", "tz", "warnings"},
		"validate":   nil,
		"mappings":   nil,
		"batch":      flagNames(newBatchFlags(io.Discard).fl),
		"serve":      flagNames(newServeFlags(io.Discard).fl),
		"completion": nil,
		"version":    nil,
		"help":       nil,
	}
}

var commandOrder = []string{"convert", "batch", "serve", "validate", "mappings", "completion", "version", "help"}

func cmdCompletion(args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		fmt.Fprint(stderr, completionUsage)
		return errUsage
	}
	switch args[0] {
	case "bash":
		fmt.Fprint(stdout, bashCompletion())
	case "zsh":
		fmt.Fprint(stdout, zshCompletion())
	case "-h", "--help", "help":
		fmt.Fprint(stdout, completionUsage)
	default:
		fmt.Fprintf(stderr, "fhirbridge completion: unknown shell %q (bash, zsh)\n", args[0])
		return errUsage
	}
	return nil
}

func dashed(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("--" + n)
	}
	return b.String()
}

func bashCompletion() string {
	flags := completionFlags()
	var cases strings.Builder
	for _, c := range commandOrder {
		fmt.Fprintf(&cases, "    %s) opts=%q ;;\n", c, dashed(flags[c]))
	}
	return `# bash completion for fhirbridge
_fhirbridge() {
  local cur prev cmd opts i
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      --config) ((i++)) ;;
      -*) ;;
      *) cmd="${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    if [[ "$prev" == "--config" ]]; then COMPREPLY=($(compgen -f -- "$cur")); return; fi
    COMPREPLY=($(compgen -W "` + strings.Join(commandOrder, " ") + ` --config --version --help" -- "$cur"))
    return
  fi
  case "$cmd" in
` + cases.String() + `    *) opts="" ;;
  esac
  case "$cmd $prev" in
    "mappings mappings") COMPREPLY=($(compgen -W "list lint explain" -- "$cur")); return ;;
    "completion completion") COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return ;;
    *" --bundle-type") COMPREPLY=($(compgen -W "transaction batch collection message document" -- "$cur")); return ;;
    *" --per") COMPREPLY=($(compgen -W "input message" -- "$cur")); return ;;
    *" --format") COMPREPLY=($(compgen -W "ndjson json" -- "$cur")); return ;;
    *" --log-level") COMPREPLY=($(compgen -W "debug info warn error" -- "$cur")); return ;;
    *" --log-format") COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
    *" --mappings"|*" --dead-letter"|*" -o"|*" --out") COMPREPLY=($(compgen -d -- "$cur")); return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _fhirbridge fhirbridge
`
}

func zshCompletion() string {
	flags := completionFlags()
	var cases strings.Builder
	for _, c := range commandOrder {
		var specs []string
		for _, f := range flags[c] {
			specs = append(specs, fmt.Sprintf("'--%s[%s]'", f, f))
		}
		if len(specs) == 0 {
			specs = []string{"'*:file:_files'"}
		} else {
			specs = append(specs, "'*:file:_files'")
		}
		fmt.Fprintf(&cases, "    %s) _arguments %s ;;\n", c, strings.Join(specs, " "))
	}
	return `#compdef fhirbridge
# zsh completion for fhirbridge
_fhirbridge() {
  local -a commands
  commands=(
    'convert:convert messages (format and type detected)'
    'batch:convert files, folders and globs in parallel'
    'serve:serve HTTP and MLLP'
    'validate:validate FHIR R4 JSON'
    'mappings:list, lint or explain mappings'
    'completion:print a shell completion script'
    'version:print the version'
    'help:show help'
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local cmd=${words[2]}
  if [[ $cmd == --config ]]; then cmd=${words[4]}; fi
  case $cmd in
` + cases.String() + `  esac
}
_fhirbridge "$@"
`
}
