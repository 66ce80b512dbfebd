package model

import (
	"fmt"
	"os"
	"path/filepath"
)

// Render generates every service in Services from the models below
// modelsRoot, returning file contents keyed by path relative to the api root.
func Render(modelsRoot string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, cfg := range Services {
		m, pag, err := Load(filepath.Join(modelsRoot, cfg.ModelDir))
		if err != nil {
			return nil, err
		}
		files, err := Generate(cfg, m, pag)
		if err != nil {
			return nil, err
		}
		for name, src := range files {
			out[filepath.Join(cfg.Package, name)] = src
		}
	}
	return out, nil
}

// Write renders every service and writes the files below apiRoot, removing
// generated files that the models no longer produce.
func Write(modelsRoot, apiRoot string) error {
	files, err := Render(modelsRoot)
	if err != nil {
		return err
	}
	for _, cfg := range Services {
		stale, _ := filepath.Glob(filepath.Join(apiRoot, cfg.Package, "*.gen.go"))
		for _, f := range stale {
			rel, _ := filepath.Rel(apiRoot, f)
			if _, keep := files[rel]; !keep {
				if err := os.Remove(f); err != nil {
					return fmt.Errorf("model: remove stale %s: %w", f, err)
				}
			}
		}
	}
	for rel, src := range files {
		path := filepath.Join(apiRoot, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("model: %w", err)
		}
		if err := os.WriteFile(path, src, 0o644); err != nil {
			return fmt.Errorf("model: %w", err)
		}
	}
	return nil
}
