// Command apigen regenerates internal/api from the AWS service models.
// It is run by `go generate ./...` (see internal/api/doc.go).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/orgstack/orgstack/internal/model"
)

func main() {
	models := flag.String("models", "../../../shared/models", "root of the botocore service models")
	out := flag.String("out", ".", "the internal/api directory to write into")
	flag.Parse()
	if err := model.Write(*models, *out); err != nil {
		fmt.Fprintln(os.Stderr, "apigen:", err)
		os.Exit(1)
	}
}
