package model

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

const modelsRoot = "../../../shared/models"

// TestGeneratedCodeIsCurrent regenerates internal/api and fails when the
// committed files differ, so that nobody edits generated code by hand and
// nobody forgets to run go generate after changing the generator.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if _, err := os.Stat(modelsRoot); err != nil {
		t.Skipf("the AWS models are not at %s (they live beside the repository in ../shared/models); skipping", modelsRoot)
	}
	want, err := Render(modelsRoot)
	if err != nil {
		t.Fatal(err)
	}
	for rel, src := range want {
		got, err := os.ReadFile(filepath.Join("..", "api", rel))
		if err != nil {
			t.Errorf("%s: %v (run go generate ./...)", rel, err)
			continue
		}
		if !bytes.Equal(got, src) {
			t.Errorf("internal/api/%s is not what the generator produces: run go generate ./... and commit the result", rel)
		}
	}
	for _, cfg := range Services {
		files, _ := filepath.Glob(filepath.Join("..", "api", cfg.Package, "*.gen.go"))
		for _, f := range files {
			rel, _ := filepath.Rel(filepath.Join("..", "api"), f)
			if _, ok := want[rel]; !ok {
				t.Errorf("internal/api/%s is not generated any more: run go generate ./...", rel)
			}
		}
	}
}

func TestGeneratedHeader(t *testing.T) {
	if _, err := os.Stat(modelsRoot); err != nil {
		t.Skipf("the AWS models are not at %s; skipping", modelsRoot)
	}
	files, err := Render(modelsRoot)
	if err != nil {
		t.Fatal(err)
	}
	header := regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)
	for rel, src := range files {
		first, _, _ := bytes.Cut(src, []byte("\n"))
		if !header.Match(first) {
			t.Errorf("%s starts with %q, not the standard generated-code header", rel, first)
		}
	}
}

func TestEnumConstName(t *testing.T) {
	t.Parallel()
	tests := []struct{ typ, value, want string }{
		{"InvalidInputExceptionReason", "INVALID_ENUM", "InvalidInputExceptionReasonInvalidEnum"},
		{"EnrollmentStatus", "Active", "EnrollmentStatusActive"},
		{"RecommendedActionType", "SnapshotAndDeleteUnattachedEbsVolume", "RecommendedActionTypeSnapshotAndDeleteUnattachedEbsVolume"},
		{"PolicyType", "AISERVICES_OPT_OUT_POLICY", "PolicyTypeAiservicesOptOutPolicy"},
		{"ComparisonOperator", "StringNotEqualsIgnoreCase", "ComparisonOperatorStringNotEqualsIgnoreCase"},
		{"Region", "us-east-1", "RegionUsEast1"},
	}
	for _, tt := range tests {
		if got := enumConstName(tt.typ, tt.value); got != tt.want {
			t.Errorf("enumConstName(%q, %q) = %q, want %q", tt.typ, tt.value, got, tt.want)
		}
	}
}

func TestGoPattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		match   []string
		reject  []string
	}{
		{`[\u0020-\u007E]+`, []string{"plain ascii"}, []string{"", "\u00e9"}},
		{`^\d{12}$`, []string{"123456789012"}, []string{"12345678901", "1234567890123"}},
		// Smithy patterns are not anchored: a match inside the value is enough.
		{`[0-9]{12}`, []string{"x123456789012y"}, []string{"12345"}},
	}
	for _, tt := range tests {
		re, err := regexp.Compile(goPattern(tt.pattern))
		if err != nil {
			t.Fatalf("goPattern(%q) does not compile: %v", tt.pattern, err)
		}
		for _, s := range tt.match {
			if !re.MatchString(s) {
				t.Errorf("%q should match %q", tt.pattern, s)
			}
		}
		for _, s := range tt.reject {
			if re.MatchString(s) {
				t.Errorf("%q should not match %q", tt.pattern, s)
			}
		}
	}
}

func TestCheckRefusesUnsupportedShapes(t *testing.T) {
	t.Parallel()
	m := &Model{Shapes: map[string]*Shape{"M": {Type: "map"}}}
	if err := m.check(); err == nil {
		t.Fatal("a map shape was accepted; the generator cannot express it")
	}
}
