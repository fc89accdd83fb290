package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/clearance-dev/clearance/review"
)

// readBody reads a JSON request body of at most limit bytes. A body that
// is not application/json is errMediaType; a longer one errTooLarge.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, fmt.Errorf("read body: content type %q: want application/json: %w", r.Header.Get("Content-Type"), errMediaType)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, fmt.Errorf("read body: over the limit of %d bytes: %w", limit, errTooLarge)
	}
	if err != nil {
		return nil, fmt.Errorf("read body: %v: %w", err, errBadRequest)
	}
	return data, nil
}

// decodeStrict decodes one JSON object into v, rejecting unknown fields,
// values of the wrong type and anything after the object. Errors wrap
// errBadRequest and name the place of the problem.
//
// A string that is not UTF-8 or holds NUL is refused first, with an
// error wrapping review.ErrInvalidInput that names its field (see
// review.CheckJSONText): encoding/json would quietly turn it into U+FFFD
// in a string, or keep it in a json.RawMessage and echo invalid JSON.
func decodeStrict(data []byte, v any) error {
	if err := review.CheckJSONText(data, ""); err != nil {
		return fmt.Errorf("decode body: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("decode body: empty body: %w", errBadRequest)
		}
		return fmt.Errorf("decode body: %s: %w", review.DescribeJSONError(err), errBadRequest)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("decode body: unexpected data after the JSON object at byte %d: %w", dec.InputOffset(), errBadRequest)
	}
	return nil
}
