package transform

import (
	"reflect"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
)

// Most mapping expressions are small: comparisons of input text with literals, code-map
// lookups, conditions joined with && and ||, a ternary choosing between strings. expr's VM
// runs them on a stack of `any`, which costs an allocation for every string a function
// returns — the largest share of a conversion's allocations. For an expression made only of
// the forms below, the compiler also builds native Go closures over the typed AST, and the
// run calls those instead of the VM. Anything else (registered functions, numbers, member
// access, …) runs on the VM as before; both give the same results (fastexpr_test.go checks
// every expression of the built-in mappings both ways).
//
//	'literal'  v  get('path')  has('path')  param('name')  code|system|display(map, s)
//	upper(s)  lower(s)  trim(s)  s[i:j]  s + s
//	coalesce(s, …)  uri(s)  digits(s)  decimal(s)  replace(s, s, s)  isNumber(s)  isDate(s)
//	join(filter([s, …], # != ''), s)  join(all('path'), s)  len(s) < <= > >= == != 123
//	split(s, 'sep')[i]  (in string expressions; past the last part the VM runs it and reports)
//	s == s  s != s  b == b  b != b  s in ['a', …]  s contains|startsWith|endsWith s
//	s matches 'literal'  !b  not b  b && b  b and b  b || b  b or b  c ? x : x

// fastExpr is the native form of an expression: exactly one of str and bl is set.
type fastExpr struct {
	str func(r *run) string
	bl  func(r *run) bool
}

// compileFast returns the native form of a type-checked expression AST, or nil when it uses
// a form the native evaluator does not have.
func compileFast(n ast.Node) *fastExpr {
	s, b := fastNode(n)
	if s == nil && b == nil || b != nil && hasSplitIndex(n) {
		return nil // a condition cannot hand over to the VM (see fastSplitIndex)
	}
	return &fastExpr{str: s, bl: b}
}

// fastNode compiles n to a string or a bool closure; both nil when it cannot.
func fastNode(n ast.Node) (func(*run) string, func(*run) bool) {
	switch n := n.(type) {
	case *ast.StringNode:
		v := n.Value
		return func(*run) string { return v }, nil
	case *ast.BoolNode:
		v := n.Value
		return nil, func(*run) bool { return v }
	case *ast.ConstantNode:
		switch v := n.Value.(type) {
		case string:
			return func(*run) string { return v }, nil
		case bool:
			return nil, func(*run) bool { return v }
		}
	case *ast.IdentifierNode:
		if n.Value == "v" {
			return func(r *run) string { return r.env.V }, nil
		}
	case *ast.CallNode:
		return fastCall(n)
	case *ast.BuiltinNode:
		if n.Name == "join" {
			return fastJoin(n), nil
		}
		if len(n.Arguments) != 1 {
			return nil, nil
		}
		a := fastString(n.Arguments[0])
		if a == nil {
			return nil, nil
		}
		switch n.Name {
		case "upper":
			return func(r *run) string { return strings.ToUpper(a(r)) }, nil
		case "lower":
			return func(r *run) string { return strings.ToLower(a(r)) }, nil
		case "trim":
			return func(r *run) string { return strings.TrimSpace(a(r)) }, nil
		}
	case *ast.UnaryNode:
		if n.Operator == "!" || n.Operator == "not" {
			if b := fastBool(n.Node); b != nil {
				return nil, func(r *run) bool { return !b(r) }
			}
		}
	case *ast.BinaryNode:
		if n.Operator == "+" {
			l, r := fastString(n.Left), fastString(n.Right)
			if l == nil || r == nil {
				return nil, nil
			}
			return func(x *run) string { return l(x) + r(x) }, nil
		}
		return nil, fastBinary(n)
	case *ast.ConditionalNode:
		c := fastBool(n.Cond)
		if c == nil {
			return nil, nil
		}
		s1, b1 := fastNode(n.Exp1)
		s2, b2 := fastNode(n.Exp2)
		switch {
		case s1 != nil && s2 != nil:
			return func(r *run) string {
				if c(r) {
					return s1(r)
				}
				return s2(r)
			}, nil
		case b1 != nil && b2 != nil:
			return nil, func(r *run) bool {
				if c(r) {
					return b1(r)
				}
				return b2(r)
			}
		}
	case *ast.SliceNode:
		return fastSlice(n), nil
	case *ast.MemberNode:
		return fastSplitIndex(n), nil
	}
	return nil, nil
}

func fastString(n ast.Node) func(*run) string { s, _ := fastNode(n); return s }

func fastBool(n ast.Node) func(*run) bool { _, b := fastNode(n); return b }

// fastCall compiles the env functions; registered functions stay on the VM.
func fastCall(n *ast.CallNode) (func(*run) string, func(*run) bool) {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok {
		return nil, nil
	}
	lit := func(i int) (string, bool) {
		if i >= len(n.Arguments) {
			return "", false
		}
		s, ok := n.Arguments[i].(*ast.StringNode)
		if !ok {
			return "", false
		}
		return s.Value, true
	}
	switch id.Value {
	case "get", "has", "param":
		p, ok := lit(0)
		if !ok || len(n.Arguments) != 1 {
			return nil, nil
		}
		switch id.Value {
		case "get":
			return func(r *run) string { return r.get(p) }, nil
		case "has":
			return nil, func(r *run) bool { return r.has(p) }
		default:
			return func(r *run) string { return r.param(p) }, nil
		}
	case "code", "system", "display":
		m, ok := lit(0)
		if !ok || len(n.Arguments) != 2 {
			return nil, nil
		}
		a := fastString(n.Arguments[1])
		if a == nil {
			return nil, nil
		}
		switch id.Value {
		case "code":
			return func(r *run) string { return r.code(m, a(r)) }, nil
		case "system":
			return func(r *run) string { return r.system(m, a(r)) }, nil
		default:
			return func(r *run) string { return r.display(m, a(r)) }, nil
		}
	}
	return fastFunc(id.Value, n.Arguments)
}

// fastFunc compiles a call of a standard registered function (standardFuncs) whose
// arguments are all strings; usesOverridden keeps it on the VM where a registry replaces it.
func fastFunc(name string, args []ast.Node) (func(*run) string, func(*run) bool) {
	as := make([]func(*run) string, len(args))
	for i, a := range args {
		if as[i] = fastString(a); as[i] == nil {
			return nil, nil
		}
	}
	one := func(f func(string) string) func(*run) string {
		if len(as) != 1 {
			return nil
		}
		a := as[0]
		return func(r *run) string { return f(a(r)) }
	}
	switch name {
	case "coalesce":
		return func(r *run) string {
			for _, a := range as {
				if s := a(r); strings.TrimSpace(s) != "" {
					return s
				}
			}
			return ""
		}, nil
	case "uri":
		return one(asURI), nil
	case "digits":
		return one(digits), nil
	case "decimal":
		return one(func(s string) string {
			if d, ok := normalizeDecimal(s); ok {
				return d
			}
			return ""
		}), nil
	case "replace":
		if len(as) != 3 {
			return nil, nil
		}
		s, o, n := as[0], as[1], as[2]
		return func(r *run) string { return strings.ReplaceAll(s(r), o(r), n(r)) }, nil
	case "isNumber", "isDate":
		if len(as) != 1 {
			return nil, nil
		}
		a := as[0]
		if name == "isNumber" {
			return nil, func(r *run) bool { _, ok := normalizeDecimal(a(r)); return ok }
		}
		return nil, func(r *run) bool { _, ok := parseTimestamp(a(r)); return ok }
	}
	return nil, nil
}

// usesOverridden reports whether n calls a function that fastFunc compiles but that funcs
// holds in a form other than the standard one (a user's Register of the same name).
func usesOverridden(n ast.Node, funcs *Registry) bool {
	v := overrideFinder{funcs: funcs}
	ast.Walk(&n, &v)
	return v.found
}

type overrideFinder struct {
	funcs *Registry
	found bool
}

func (v *overrideFinder) Visit(n *ast.Node) {
	call, ok := (*n).(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	std, isStd := standardFuncs[id.Value]
	if !isStd {
		return
	}
	got, ok := v.funcs.funcs[id.Value]
	if !ok || reflect.ValueOf(got.fn).Pointer() != reflect.ValueOf(std.fn).Pointer() {
		v.found = true
	}
}

func fastBinary(n *ast.BinaryNode) func(*run) bool {
	if f := fastLenCompare(n); f != nil {
		return f
	}
	switch n.Operator {
	case "&&", "and":
		l, r := fastBool(n.Left), fastBool(n.Right)
		if l == nil || r == nil {
			return nil
		}
		return func(x *run) bool { return l(x) && r(x) }
	case "||", "or":
		l, r := fastBool(n.Left), fastBool(n.Right)
		if l == nil || r == nil {
			return nil
		}
		return func(x *run) bool { return l(x) || r(x) }
	case "==", "!=":
		neg := n.Operator == "!="
		ls, lb := fastNode(n.Left)
		rs, rb := fastNode(n.Right)
		switch {
		case ls != nil && rs != nil:
			return func(x *run) bool { return (ls(x) == rs(x)) != neg }
		case lb != nil && rb != nil:
			return func(x *run) bool { return (lb(x) == rb(x)) != neg }
		}
	case "in":
		l := fastString(n.Left)
		if l == nil {
			return nil
		}
		set := map[string]struct{}{}
		switch rt := n.Right.(type) {
		case *ast.ConstantNode: // the optimizer's form of a literal list
			m, ok := rt.Value.(map[string]struct{})
			if !ok {
				return nil
			}
			set = m
		case *ast.ArrayNode:
			for _, e := range rt.Nodes {
				s, ok := e.(*ast.StringNode)
				if !ok {
					return nil
				}
				set[s.Value] = struct{}{}
			}
		default:
			return nil
		}
		return func(x *run) bool { _, ok := set[l(x)]; return ok }
	case "contains", "startsWith", "endsWith":
		l, r := fastString(n.Left), fastString(n.Right)
		if l == nil || r == nil {
			return nil
		}
		switch n.Operator {
		case "contains":
			return func(x *run) bool { return strings.Contains(l(x), r(x)) }
		case "startsWith":
			return func(x *run) bool { return strings.HasPrefix(l(x), r(x)) }
		default:
			return func(x *run) bool { return strings.HasSuffix(l(x), r(x)) }
		}
	case "matches":
		l := fastString(n.Left)
		lit, ok := n.Right.(*ast.StringNode)
		if l == nil || !ok {
			return nil
		}
		re, err := regexp.Compile(lit.Value)
		if err != nil {
			return nil
		}
		return func(x *run) bool { return re.MatchString(l(x)) }
	}
	return nil
}

// fastSlice compiles s[i:j] on a string with constant bounds, clamped as expr does.
func fastSlice(n *ast.SliceNode) func(*run) string {
	s := fastString(n.Node)
	if s == nil || n.Node.Type() == nil || n.Node.Type().Kind() != reflect.String {
		return nil
	}
	bound := func(b ast.Node) (int, bool, bool) { // value, given, ok
		switch b := b.(type) {
		case nil:
			return 0, false, true
		case *ast.IntegerNode:
			return b.Value, true, true
		}
		return 0, false, false
	}
	from, hasFrom, ok1 := bound(n.From)
	to, hasTo, ok2 := bound(n.To)
	if !ok1 || !ok2 {
		return nil
	}
	return func(x *run) string {
		v := s(x)
		a, b := 0, len(v)
		if hasFrom {
			a = from
		}
		if hasTo {
			b = to
		}
		if a < 0 {
			a = max(len(v)+a, 0)
		}
		if b < 0 {
			b = max(len(v)+b, 0)
		}
		b = min(b, len(v))
		a = min(a, b)
		return v[a:b]
	}
}

// fastJoin compiles join(filter([s, …], # != ”), sep) and join(all('path'), sep).
func fastJoin(n *ast.BuiltinNode) func(*run) string {
	if len(n.Arguments) != 2 {
		return nil
	}
	sep := fastString(n.Arguments[1])
	if sep == nil {
		return nil
	}
	switch list := n.Arguments[0].(type) {
	case *ast.CallNode: // all('path')
		id, ok := list.Callee.(*ast.IdentifierNode)
		if !ok || id.Value != "all" || len(list.Arguments) != 1 {
			return nil
		}
		lit, ok := list.Arguments[0].(*ast.StringNode)
		if !ok {
			return nil
		}
		p := lit.Value
		return func(r *run) string {
			var j joiner
			ns := r.sel(p)
			for _, n := range ns {
				j.add(n.Text(), sep, r)
			}
			clear(ns)
			return j.String()
		}
	case *ast.BuiltinNode: // filter([…], # != '')
		if list.Name != "filter" || len(list.Arguments) != 2 || !isNotEmptyPredicate(list.Arguments[1]) {
			return nil
		}
		arr, ok := list.Arguments[0].(*ast.ArrayNode)
		if !ok {
			return nil
		}
		elems := make([]func(*run) string, len(arr.Nodes))
		for i, e := range arr.Nodes {
			if elems[i] = fastString(e); elems[i] == nil {
				return nil
			}
		}
		return func(r *run) string {
			var j joiner
			for _, e := range elems {
				j.add(e(r), sep, r)
			}
			return j.String()
		}
	}
	return nil
}

// joiner joins the non-empty strings added to it with a separator, as join(…) of the
// non-empty ones does; it allocates only when there are two or more.
type joiner struct {
	b     strings.Builder
	first string
	n     int
}

func (j *joiner) add(s string, sep func(*run) string, r *run) {
	if s == "" {
		return
	}
	switch j.n {
	case 0:
		j.first = s
	case 1:
		j.b.WriteString(j.first)
		fallthrough
	default:
		j.b.WriteString(sep(r))
		j.b.WriteString(s)
	}
	j.n++
}

func (j *joiner) String() string {
	if j.n == 1 {
		return j.first
	}
	return j.b.String()
}

// isNotEmptyPredicate reports whether n is the predicate # != ”.
func isNotEmptyPredicate(n ast.Node) bool {
	p, ok := n.(*ast.PredicateNode)
	if !ok {
		return false
	}
	b, ok := p.Node.(*ast.BinaryNode)
	if !ok || b.Operator != "!=" {
		return false
	}
	ptr, ok1 := b.Left.(*ast.PointerNode)
	lit, ok2 := b.Right.(*ast.StringNode)
	return ok1 && ok2 && ptr.Name == "" && lit.Value == ""
}

// fastLenCompare compiles len(s) compared with an integer literal; len counts runes, as
// expr's does.
func fastLenCompare(n *ast.BinaryNode) func(*run) bool {
	l, ok := n.Left.(*ast.BuiltinNode)
	if !ok || l.Name != "len" || len(l.Arguments) != 1 {
		return nil
	}
	lit, ok := n.Right.(*ast.IntegerNode)
	if !ok {
		return nil
	}
	s := fastString(l.Arguments[0])
	if s == nil {
		return nil
	}
	k := lit.Value
	size := func(r *run) int { return utf8.RuneCountInString(s(r)) }
	switch n.Operator {
	case "<":
		return func(r *run) bool { return size(r) < k }
	case "<=":
		return func(r *run) bool { return size(r) <= k }
	case ">":
		return func(r *run) bool { return size(r) > k }
	case ">=":
		return func(r *run) bool { return size(r) >= k }
	case "==":
		return func(r *run) bool { return size(r) == k }
	case "!=":
		return func(r *run) bool { return size(r) != k }
	}
	return nil
}

// fastSplitIndex compiles split(s, 'sep')[i] for a literal i ≥ 0 and a non-empty literal
// separator, without building the parts. Past the last part expr fails with an error that
// the rule reports; the closure then sets r.missed, and the run evaluates the expression on
// the VM instead, which reports it.
func fastSplitIndex(n *ast.MemberNode) func(*run) string {
	call, ok := n.Node.(*ast.BuiltinNode)
	idx, ok2 := n.Property.(*ast.IntegerNode)
	if !ok || !ok2 || n.Optional || call.Name != "split" || len(call.Arguments) != 2 || idx.Value < 0 {
		return nil
	}
	sepLit, ok := call.Arguments[1].(*ast.StringNode)
	str := fastString(call.Arguments[0])
	if !ok || sepLit.Value == "" || str == nil {
		return nil
	}
	sep, i := sepLit.Value, idx.Value
	return func(r *run) string {
		s := str(r)
		for k := i; k > 0; k-- {
			j := strings.Index(s, sep)
			if j < 0 {
				r.missed = true
				return ""
			}
			s = s[j+len(sep):]
		}
		if j := strings.Index(s, sep); j >= 0 {
			s = s[:j]
		}
		return s
	}
}

// hasSplitIndex reports whether n holds a split(…)[i] that fastSplitIndex compiles.
func hasSplitIndex(n ast.Node) bool {
	var v splitFinder
	ast.Walk(&n, &v)
	return v.found
}

type splitFinder struct{ found bool }

func (v *splitFinder) Visit(n *ast.Node) {
	if m, ok := (*n).(*ast.MemberNode); ok && fastSplitIndex(m) != nil {
		v.found = true
	}
}
