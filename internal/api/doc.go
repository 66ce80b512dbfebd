// Package api holds the generated API layer of each service orgstack serves:
// internal/api/organizations and internal/api/automation. Everything below
// this directory except this file is generated from the AWS service models
// (botocore JSON, kept in ../shared/models) by internal/model; regenerate
// with `go generate ./...` and never edit the output by hand.
package api

//go:generate go run ../model/apigen -models ../../../shared/models -out .
