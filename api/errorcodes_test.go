package api_test

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
)

// TestEveryErrorCodeIsDocumented keeps the services' error codes, the
// spec's ErrorCode enum and the table of docs/api.md in step: a code a
// service defines is listed in both with the status it answers, and
// neither lists a code that no service defines.
func TestEveryErrorCodeIsDocumented(t *testing.T) {
	defined := serviceErrorCodes(t, "../services")
	if len(defined) < 20 {
		t.Fatalf("found only %d error codes under ../services; the scan no longer sees apierr.New", len(defined))
	}

	raw, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Components struct {
			Schemas struct {
				ErrorCode struct {
					Enum []string `yaml:"enum"`
				} `yaml:"ErrorCode"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &spec); err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	inSpec := map[string]bool{}
	for _, c := range spec.Components.Schemas.ErrorCode.Enum {
		inSpec[c] = true
	}

	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	inDoc := map[string]int{}
	row := regexp.MustCompile("(?m)^\\| `([A-Z][A-Z0-9_]+)` \\| ([0-9]{3}) \\|")
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		inDoc[m[1]], _ = strconv.Atoi(m[2])
	}

	for _, code := range sortedKeys(defined) {
		if !inSpec[code] {
			t.Errorf("%s is defined by a service but missing from components.schemas.ErrorCode in api/openapi.yaml", code)
		}
		switch status, ok := inDoc[code]; {
		case !ok:
			t.Errorf("%s is defined by a service but has no row in the error code table of docs/api.md", code)
		case status != defined[code]:
			t.Errorf("docs/api.md gives %s status %d; the service answers %d", code, status, defined[code])
		}
	}
	for _, code := range sortedKeys(inSpec) {
		if _, ok := defined[code]; !ok {
			t.Errorf("api/openapi.yaml lists %s, which no service defines", code)
		}
	}
	for _, code := range sortedKeys(inDoc) {
		if _, ok := defined[code]; !ok {
			t.Errorf("docs/api.md lists %s, which no service defines", code)
		}
	}
}

// serviceErrorCodes finds every apierr.New(http.StatusX, "CODE", ...) in
// the production code under root (and New in package apierr itself),
// with the status it answers.
func serviceErrorCodes(t *testing.T, root string) map[string]int {
	t.Helper()
	statuses := httpStatuses(t)
	codes := map[string]int{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || !isAPIErrNew(f, call.Fun) {
				return true
			}
			pos := fset.Position(call.Pos())
			if len(call.Args) != 3 {
				t.Errorf("%s: apierr.New with %d arguments", pos, len(call.Args))
				return true
			}
			status, okStatus := call.Args[0].(*ast.SelectorExpr)
			lit, okCode := call.Args[1].(*ast.BasicLit)
			if !okStatus || !okCode || lit.Kind != token.STRING {
				t.Errorf("%s: apierr.New needs an http.Status constant and a literal code so that the code can be documented", pos)
				return true
			}
			code, _ := strconv.Unquote(lit.Value)
			answers, ok := statuses[status.Sel.Name]
			if !ok {
				t.Errorf("%s: %s is not a net/http status constant", pos, status.Sel.Name)
				return true
			}
			if prev, dup := codes[code]; dup && prev != answers {
				t.Errorf("%s: %s is defined again with status %d (was %d)", pos, code, answers, prev)
			}
			codes[code] = answers
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

func isAPIErrNew(f *ast.File, fun ast.Expr) bool {
	switch fn := fun.(type) {
	case *ast.SelectorExpr:
		pkg, ok := fn.X.(*ast.Ident)
		return ok && pkg.Name == "apierr" && fn.Sel.Name == "New"
	case *ast.Ident:
		return f.Name.Name == "apierr" && fn.Name == "New"
	}
	return false
}

// httpStatuses reads net/http's status constants from the toolchain's
// source, so that the table's numbers are checked against what
// http.StatusX means rather than against a copy of it.
func httpStatuses(t *testing.T) map[string]int {
	t.Helper()
	path := filepath.Join(build.Default.GOROOT, "src", "net", "http", "status.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("reading net/http's status constants: %v", err)
	}
	out := map[string]int{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.INT {
					out[name.Name], _ = strconv.Atoi(lit.Value)
				}
			}
		}
	}
	if out["StatusConflict"] != 409 {
		t.Fatalf("%s does not define StatusConflict = 409", path)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
