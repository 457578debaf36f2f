package transform

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/fhirbridge/fhirbridge/transform/tree"
)

// exprEnv is what an expression sees. Its functions read the input relative to the node the
// rule is working on; they are bound once per run state, not per evaluation.
type exprEnv struct {
	V   string                `expr:"v"`   // the current node's text
	Get func(string) string   `expr:"get"` // text at a path relative to the current node ("" if absent)
	Has func(string) bool     `expr:"has"` // whether a path reaches a non-empty node
	All func(string) []string `expr:"all"` // the texts of every node a path reaches
	// Code looks a code up in a code map and returns the target code ("" if unmapped).
	Code func(codeMap, code string) string `expr:"code"`
	// System returns the target system of a code map entry ("" if unmapped).
	System func(codeMap, code string) string `expr:"system"`
	// Display returns the target display of a code map entry ("" if unmapped).
	Display func(codeMap, code string) string `expr:"display"`
	// Param returns a run parameter (RunOptions.Params), "" if not set: the reverse direction
	// reads the sending application, control id and the like from them.
	Param func(name string) string `expr:"param"`
	// Index returns how many nodes before the current one the innermost rule with a from
	// has run on (its when held), from 0: the position of the current node among those the
	// rule builds something for. index(1) is the same for the enclosing rule with a from,
	// and so on; 0 outside any from. The reverse mappings number what a target format
	// numbers (EDIFACT SEQ, and references to it from nested groups).
	Index func(level ...int) int `expr:"index"`
}

// pathFuncs are the env functions whose first argument is a source path.
var pathFuncs = map[string]bool{"get": true, "has": true, "all": true}

// Registry holds the pure functions available to mapping expressions, in addition to the
// built-in ones of expr and the input accessors (v, get, has, all, code, system, display).
// A Registry is copied by [DefaultRegistry]; there is no global mutable registry.
type Registry struct {
	funcs map[string]registered
}

type registered struct {
	fn    func(params ...any) (any, error)
	types []any
	doc   string
}

// DefaultRegistry returns a copy of the standard function registry.
func DefaultRegistry() *Registry {
	r := &Registry{funcs: map[string]registered{}}
	for name, f := range standardFuncs {
		r.funcs[name] = f
	}
	return r
}

// Register adds a function; types are expr's optional typed signatures (see expr.Function).
func (r *Registry) Register(name, doc string, fn func(params ...any) (any, error), types ...any) {
	r.funcs[name] = registered{fn: fn, types: types, doc: doc}
}

// Docs returns name → one-line documentation of every registered function.
func (r *Registry) Docs() map[string]string {
	out := make(map[string]string, len(r.funcs))
	for n, f := range r.funcs {
		out[n] = f.doc
	}
	return out
}

// pathCollector checks, at compile time, every literal path passed to get, has and all, and
// compiles it, so that a typo in a path is a load error and evaluation never parses a path.
type pathCollector struct {
	c      *compiler
	schema tree.Schema
	at     pos
	errs   []string
}

func (v *pathCollector) Visit(n *ast.Node) {
	call, ok := (*n).(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || !pathFuncs[id.Value] || len(call.Arguments) == 0 {
		return
	}
	lit, ok := call.Arguments[0].(*ast.StringNode)
	if !ok {
		v.errs = append(v.errs, fmt.Sprintf("%s: the path must be a string literal, so it can be checked when the mapping loads", id.Value))
		return
	}
	byFormat := v.c.p.paths[v.schema.Name()]
	if byFormat == nil {
		byFormat = map[string]tree.Path{}
		v.c.p.paths[v.schema.Name()] = byFormat
	}
	if _, done := byFormat[lit.Value]; done {
		return
	}
	p, err := v.schema.Compile(lit.Value)
	if err != nil {
		v.errs = append(v.errs, fmt.Sprintf("%s(%q): %v", id.Value, lit.Value, err))
		return
	}
	byFormat[lit.Value] = p
}

// exprKey identifies a compiled expression: the same text compiles to the same program for
// one format, so each distinct expression is compiled once per Compile.
type exprKey struct {
	format, src string
	asBool      bool
}

// expr compiles one expression. asBool asks for a condition.
func (c *compiler) expr(s tree.Schema, p pos, src string, asBool bool) *vm.Program {
	key := exprKey{s.Name(), src, asBool}
	if prog, ok := c.exprs[key]; ok {
		return prog
	}
	prog := c.compileExpr(s, p, src, asBool)
	if prog != nil {
		c.exprs[key] = prog
		if f := compileFast(prog.Node()); f != nil && !c.vmOnly && (f.bl != nil || !asBool) && !usesOverridden(prog.Node(), c.funcs) {
			c.fast[prog] = f
		}
	}
	return prog
}

func (c *compiler) compileExpr(s tree.Schema, p pos, src string, asBool bool) *vm.Program {
	pc := &pathCollector{c: c, schema: s, at: p}
	opts := []expr.Option{expr.Env(exprEnv{}), expr.Patch(pc)}
	for name, f := range c.funcs.funcs {
		opts = append(opts, expr.Function(name, f.fn, f.types...))
	}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		d := p.diag(KindExpr, "%s", exprMessage(err))
		if fe, ok := err.(*file.Error); ok {
			// Point at the offending character inside the YAML scalar.
			if fe.Line <= 1 {
				d.Column = p.col + fe.Column
			} else {
				d.Line, d.Column = p.line+fe.Line-1, fe.Column+1
			}
			d.Snippet = caret(src, fe.Line, fe.Column)
		}
		c.diags = append(c.diags, d)
		return nil
	}
	for _, e := range pc.errs {
		c.errorf(p, KindPath, "%s", e)
	}
	return prog
}

func exprMessage(err error) string {
	if fe, ok := err.(*file.Error); ok {
		return fe.Message
	}
	return err.Error()
}

// caret renders the line of src at line (1-based) with a caret under column (0-based).
func caret(src string, line, column int) string {
	lines := strings.Split(src, "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	l := lines[line-1]
	if column > len(l) {
		column = len(l)
	}
	return " | " + l + "\n | " + strings.Repeat(".", column) + "^"
}
