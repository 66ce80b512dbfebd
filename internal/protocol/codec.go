package protocol

import (
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Codec reads requests and writes responses in one wire protocol. The
// codecs are stateless and safe for concurrent use.
type Codec interface {
	Protocol() Protocol

	// Decode fills input, a non-nil pointer to a generated input structure,
	// from a request body. Malformed input yields a *SerializationError;
	// any other error means that input does not follow the generated-type
	// convention (a bug, to be answered as an internal error).
	Decode(body []byte, input any) error

	// WriteOutput writes a 200 response carrying output, a pointer to a
	// generated output structure. A nil output stands for Smithy's Unit: an
	// empty body for RPC v2 CBOR (as its spec requires) and {} for awsJson.
	// An error means nothing was written.
	WriteOutput(w http.ResponseWriter, requestID string, output any) error

	// WriteError writes err with the status err.HTTPStatus() reports. svc
	// supplies the namespace of the absolute shape ids that awsJson 1.0 and
	// RPC v2 CBOR put in __type; it may be nil when the request named no
	// known service, and the bare code is sent then. The body carries __type
	// and the error's members: the json-tagged fields of the struct behind
	// err, as for any generated structure. An error without such fields
	// (the protocol's own, NotImplementedError, ...) gets a message member
	// from ErrorMessage(), spelled "Message" for awsJson 1.1 as Organizations
	// models it, and "message" otherwise. An error means nothing was written.
	WriteError(w http.ResponseWriter, requestID string, svc *Service, err APIError) error
}

// CodecFor returns the codec of protocol p; an unknown p gets awsJson 1.1,
// the protocol of AWS's older JSON services.
func CodecFor(p Protocol) Codec {
	switch p {
	case AWSJSON10:
		return json10
	case RPCv2CBOR:
		return cborRPC
	default:
		return json11
	}
}

var (
	json10 = &jsonCodec{
		proto:        AWSJSON10,
		contentType:  []string{MediaTypeJSON10},
		messageKey:   `"message":`,
		fullShapeIDs: true,
	}
	json11 = &jsonCodec{
		proto:       AWSJSON11,
		contentType: []string{MediaTypeJSON11},
		// Organizations, the awsJson 1.1 service, models its error
		// messages as "Message"; unmodelled errors follow suit.
		messageKey: `"Message":`,
	}
	cborRPC = &cborCodec{}

	// Constant header values are shared rather than allocated per response.
	// A one-element slice has no spare capacity, so Header.Add on it
	// reallocates instead of writing into the shared array.
	cborContentType    = []string{MediaTypeCBOR}
	smithyProtocolCBOR = []string{SmithyProtocolCBOR}
)

// errorType is the __type of an error: the bare shape name for awsJson 1.1,
// and the absolute shape id for awsJson 1.0 and RPC v2 CBOR, as their specs
// say servers SHOULD send (JS v3 resolves the error class by namespace).
func errorType(fullShapeID bool, svc *Service, code string) string {
	if !fullShapeID || svc == nil || strings.IndexByte(code, '#') >= 0 {
		return code // already absolute, or no namespace to make it so
	}
	return svc.ShapeID(code)
}

// errorMembers returns the modelled members of an error: the json-tagged
// fields of the struct behind it. ok is false for errors without any, such
// as the protocol's own, which are rendered with just a message.
func errorMembers(err APIError) (v reflect.Value, s *shape, ok bool) {
	v = reflect.ValueOf(err)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return reflect.Value{}, nil, false
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return reflect.Value{}, nil, false
	}
	s, e := shapeOf(v.Type())
	if e != nil || len(s.fields) == 0 {
		return reflect.Value{}, nil, false
	}
	return v, s, true
}

// errorStatus passes the error's own status through; it only keeps an
// invalid one from making net/http panic.
func errorStatus(err APIError) int {
	if st := err.HTTPStatus(); st >= 100 && st <= 999 {
		return st
	}
	return http.StatusInternalServerError
}

// setHeaders sets what every response carries besides its content type.
func setHeaders(h http.Header, requestID string, n int) {
	h["Content-Length"] = []string{strconv.Itoa(n)}
	if requestID != "" {
		h[RequestIDHeader] = []string{requestID}
	}
}

// Response bodies are built in pooled buffers: ResponseWriter.Write does
// not retain its argument, so a buffer can be reused as soon as it returns.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > 64<<10 {
		return // let the odd huge response's buffer go
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// jsonCodec is awsJson 1.0 or 1.1; they differ only in media type, the
// form of __type and the name of an unmodelled error's message member.
type jsonCodec struct {
	proto        Protocol
	contentType  []string
	messageKey   string
	fullShapeIDs bool
}

func (c *jsonCodec) Protocol() Protocol { return c.proto }

func (c *jsonCodec) Decode(body []byte, input any) error { return decodeJSON(body, input) }

func (c *jsonCodec) WriteOutput(w http.ResponseWriter, requestID string, output any) error {
	v, s, ok, err := outputOf(output)
	if err != nil {
		return err
	}
	bp := getBuf()
	defer putBuf(bp)
	b := (*bp)[:0]
	if ok {
		b = appendJSONStruct(b, s, v)
	} else {
		b = append(b, '{', '}') // clients must accept {}, and every one does
	}
	*bp = b
	c.write(w, requestID, http.StatusOK, "", b)
	return nil
}

func (c *jsonCodec) WriteError(w http.ResponseWriter, requestID string, svc *Service, apiErr APIError) error {
	typ := errorType(c.fullShapeIDs, svc, apiErr.ErrorCode())
	bp := getBuf()
	defer putBuf(bp)
	b := append((*bp)[:0], `{"__type":`...)
	b = appendJSONString(b, typ)
	if v, s, ok := errorMembers(apiErr); ok {
		b = appendJSONMembers(b, s, v, true)
	} else if msg := apiErr.ErrorMessage(); msg != "" {
		b = append(b, ',')
		b = append(b, c.messageKey...)
		b = appendJSONString(b, msg)
	}
	b = append(b, '}')
	*bp = b
	c.write(w, requestID, errorStatus(apiErr), typ, b)
	return nil
}

func (c *jsonCodec) write(w http.ResponseWriter, requestID string, status int, errType string, body []byte) {
	h := w.Header()
	h["Content-Type"] = c.contentType
	setHeaders(h, requestID, len(body))
	if errType != "" {
		// Go and JS read the header before the body; botocore reads only
		// the body. Both carry the same value.
		h[ErrorTypeHeader] = []string{errType}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // a failed write means the client has gone
}

// cborCodec is Smithy RPC v2 CBOR. Every response, errors included, carries
// Smithy-Protocol: rpc-v2-cbor; released Go clients reject one without it.
type cborCodec struct{}

func (*cborCodec) Protocol() Protocol { return RPCv2CBOR }

func (*cborCodec) Decode(body []byte, input any) error { return decodeCBOR(body, input) }

func (c *cborCodec) WriteOutput(w http.ResponseWriter, requestID string, output any) error {
	v, s, ok, err := outputOf(output)
	if err != nil {
		return err
	}
	if !ok {
		// Unit output: "MUST NOT have a body or Content-Type".
		c.write(w, requestID, http.StatusOK, nil)
		return nil
	}
	body, err := cborEncMode.Marshal(cborStruct(s, v))
	if err != nil {
		return err
	}
	c.write(w, requestID, http.StatusOK, body)
	return nil
}

func (c *cborCodec) WriteError(w http.ResponseWriter, requestID string, svc *Service, apiErr APIError) error {
	m := map[string]any{"__type": errorType(true, svc, apiErr.ErrorCode())}
	if v, s, ok := errorMembers(apiErr); ok {
		cborMembers(m, s, v)
	} else if msg := apiErr.ErrorMessage(); msg != "" {
		m["message"] = msg // the only spelling Go's rpcv2 client reads
	}
	body, err := cborEncMode.Marshal(m)
	if err != nil {
		return err
	}
	c.write(w, requestID, errorStatus(apiErr), body)
	return nil
}

func (*cborCodec) write(w http.ResponseWriter, requestID string, status int, body []byte) {
	h := w.Header()
	h[SmithyProtocolHeader] = smithyProtocolCBOR
	if body != nil {
		h["Content-Type"] = cborContentType
	}
	setHeaders(h, requestID, len(body))
	w.WriteHeader(status)
	if len(body) > 0 {
		_, _ = w.Write(body) // a failed write means the client has gone
	}
}
