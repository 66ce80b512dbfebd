package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// clients reach one or several orgstack instances, taking them in turn
// request by request: several instances on one PostgreSQL database serve
// one state, so any of them may answer any request, NextTokens included.
type clients struct {
	orgs []*organizations.Client // one per endpoint
	aco  []*acoClient
	next atomic.Uint64
}

func newClients(endpoints []string, account string, transport http.RoundTripper) *clients {
	c := &clients{}
	for _, url := range endpoints {
		hc := &http.Client{Transport: transport}
		c.orgs = append(c.orgs, organizations.NewFromConfig(aws.Config{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider(account, "orgstack-load", ""),
			BaseEndpoint: aws.String(url),
			HTTPClient:   hc,
		}))
		c.aco = append(c.aco, &acoClient{url: url, account: account, http: hc})
	}
	return c
}

func (c *clients) turn() int { return int(c.next.Add(1)-1) % len(c.orgs) }

// Orgs returns the Organizations client of the next instance.
func (c *clients) Orgs() *organizations.Client { return c.orgs[c.turn()] }

// ACO returns the Automation client of the next instance.
func (c *clients) ACO() *acoClient { return c.aco[c.turn()] }

func newTransport(concurrency int) *http.Transport {
	return &http.Transport{MaxIdleConns: concurrency * 4, MaxIdleConnsPerHost: concurrency * 2, IdleConnTimeout: time.Minute}
}

// acoClient speaks the awsJson1_0 protocol of Compute Optimizer
// Automation literally: no AWS SDK for Go has that service. The requests
// are those the AWS CLI sends; orgstack in its default "open"
// authentication parses the SigV4 header without checking the signature.
type acoClient struct {
	url     string
	account string
	http    *http.Client
}

// acoError is an error response of the service.
type acoError struct {
	Status  int
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (e *acoError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Type, e.Message)
}

// call sends the operation with in as its JSON body and decodes the
// answer into out (unless out is nil).
func (c *acoClient) call(ctx context.Context, op string, in, out any) error {
	body := []byte("{}")
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "ComputeOptimizerAutomationService."+op)
	req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+c.account+"/"+now.Format("20060102")+
		"/us-east-1/aco-automation/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="+strings.Repeat("0", 64))
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		e := &acoError{Status: resp.StatusCode}
		if json.Unmarshal(b, e) != nil || e.Type == "" {
			e.Type, e.Message = "?", string(b)
		}
		if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
			e.Type = e.Type[i+1:]
		}
		return fmt.Errorf("%s: %w", op, e)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: decode answer: %w", op, err)
	}
	return nil
}

// admin calls orgstack's admin API.
func admin(ctx context.Context, endpoint, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}
