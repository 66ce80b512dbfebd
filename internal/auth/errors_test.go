package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/orgstack/orgstack/internal/protocol"
)

func TestErrors(t *testing.T) {
	tests := []struct {
		err     *Error
		code    string
		message string
	}{
		{MissingAuthenticationTokenError(), "MissingAuthenticationTokenException", "Request is missing Authentication Token"},
		{UnrecognizedClientError(), "UnrecognizedClientException", "The security token included in the request is invalid."},
		{ExpiredTokenError(), "ExpiredTokenException", "The security token included in the request is expired"},
		{errMismatch("why"), "InvalidSignatureException", msgSignatureMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			var api protocol.APIError
			if !errors.As(error(tt.err), &api) {
				t.Fatal("not a protocol.APIError")
			}
			if api.ErrorCode() != tt.code || api.ErrorMessage() != tt.message || api.HTTPStatus() != 400 ||
				api.ErrorFault() != protocol.FaultClient {
				t.Errorf("%s %q %d %v", api.ErrorCode(), api.ErrorMessage(), api.HTTPStatus(), api.ErrorFault())
			}
			if !strings.HasPrefix(tt.err.Error(), tt.code+": "+tt.message) {
				t.Errorf("Error() = %q", tt.err.Error())
			}
		})
	}
	if !HasCode(fmtWrap(UnrecognizedClientError()), CodeUnrecognizedClient) || HasCode(errors.New("x"), CodeUnrecognizedClient) {
		t.Error("HasCode")
	}
	// The diagnostic reaches logs through Error() but never the message.
	e := errMismatch("signed header \"x\" is not in the request")
	if !strings.Contains(e.Error(), `"x"`) || strings.Contains(e.ErrorMessage(), `"x"`) || e.Detail() == "" {
		t.Errorf("detail handling: %q / %q", e.Error(), e.ErrorMessage())
	}
}

func fmtWrap(err error) error { return fmt.Errorf("auth: %w", err) }
