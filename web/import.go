package web

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/work"
)

// An import (POST /api/v1/cases/{id}/imports) may be maxImportBytes long,
// too much to hold in memory once per request. It is handled in three
// passes, none holding more than one sample at a time (and a set of
// sample-id hashes):
//
//  1. the body is streamed to a spool file, sealed with age to a key that
//     lives only in this request's memory (the samples hold model answers,
//     some harmful: a file left by a crash is unreadable) and removed when
//     the request ends;
//  2. the spool is read and every part checked (scanImport), outside any
//     transaction;
//  3. the service stores the run, reading the spool once more inside its
//     transaction and storing the samples in batches.
//
// Reading the body straight into the transaction would hold the store's
// write lock (SQLite's is the whole database) for as long as a slow
// client takes to upload.

// maxImportSamples bounds the samples of one imported run.
const maxImportSamples = 1_000_000

// importSpool is an uploaded import sealed in a temporary file.
type importSpool struct {
	f  *os.File
	id *age.X25519Identity
}

// spoolImport streams the request body, at most limit bytes of
// application/json, into a sealed spool in dir. The caller must Close it.
func spoolImport(w http.ResponseWriter, r *http.Request, dir string, limit int64) (_ *importSpool, err error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, fmt.Errorf("read body: content type %q: want application/json: %w", r.Header.Get("Content-Type"), errMediaType)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, fmt.Errorf("spool import: %w", err)
	}
	f, err := os.CreateTemp(dir, "import-*.age") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("spool import: %w", err)
	}
	sp := &importSpool{f: f, id: id}
	defer func() {
		if err != nil {
			sp.Close()
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	enc, err := age.Encrypt(bw, id.Recipient())
	if err != nil {
		return nil, fmt.Errorf("spool import: %w", err)
	}
	_, err = io.Copy(enc, http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, fmt.Errorf("read body: over the limit of %d bytes: %w", limit, errTooLarge)
	case err != nil:
		return nil, fmt.Errorf("read body: %v: %w", err, errBadRequest)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("spool import: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("spool import: %w", err)
	}
	return sp, nil
}

// reader returns the spooled body from its start.
func (sp *importSpool) reader() (io.Reader, error) {
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read import spool: %w", err)
	}
	rd, err := age.Decrypt(bufio.NewReaderSize(sp.f, 64<<10), sp.id)
	if err != nil {
		return nil, fmt.Errorf("read import spool: %w", err)
	}
	return rd, nil
}

// Close removes the spool.
func (sp *importSpool) Close() {
	sp.f.Close()
	os.Remove(sp.f.Name())
}

// scanImport reads an import document, {"run":{…},"metrics":{…},
// "samples":[…]} (see importRequest), calling put (if not nil) with each
// sample in order as it is read. It checks what parseImport checked of
// the whole: each member once, no other member, and every sample a
// samples.jsonl record with an id and a suite, no id twice, at most
// maxImportSamples. It returns run and metrics unchecked and the number
// of samples. Errors wrap errBadRequest, or review.ErrInvalidInput for
// text that is not UTF-8 or holds NUL, and name the part at fault.
func scanImport(rd io.Reader, put func(review.Sample) error) (run, metrics json.RawMessage, n int, err error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf(format+": %w", append(args, errBadRequest)...)
	}
	dec := json.NewDecoder(rd)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, 0, bad("decode body: want a JSON object")
	}
	seenKey := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, 0, bad("decode body: %s", review.DescribeJSONError(err))
		}
		key, _ := tok.(string)
		if seenKey[key] {
			return nil, nil, 0, bad("decode body: field %q given twice", key)
		}
		seenKey[key] = true
		switch key {
		case "run", "metrics":
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, nil, 0, bad("%s: %s", key, review.DescribeJSONError(err))
			}
			if err := review.CheckJSONText(raw, key); err != nil {
				return nil, nil, 0, err
			}
			if key == "run" {
				run = raw
			} else {
				metrics = raw
			}
		case "samples":
			if n, err = scanSamples(dec, put); err != nil {
				return nil, nil, 0, err
			}
		default:
			return nil, nil, 0, bad("decode body: unknown field %q", key)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, 0, bad("decode body: %s", review.DescribeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, 0, bad("decode body: unexpected data after the JSON object at byte %d", dec.InputOffset())
	}
	return run, metrics, n, nil
}

// scanSamples reads the samples array of an import.
func scanSamples(dec *json.Decoder, put func(review.Sample) error) (int, error) {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return 0, fmt.Errorf("samples: want an array of samples.jsonl records: %w", errBadRequest)
	}
	// A hash of each id rather than the id keeps the set small whatever
	// the ids' length.
	seen := make(map[[16]byte]struct{})
	n := 0
	for ; dec.More(); n++ {
		if n == maxImportSamples {
			return 0, fmt.Errorf("samples: more than %d records: %w", maxImportSamples, errBadRequest)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return 0, fmt.Errorf("samples[%d]: %s: %w", n, review.DescribeJSONError(err), errBadRequest)
		}
		if err := review.CheckJSONText(raw, fmt.Sprintf("samples[%d]", n)); err != nil {
			return 0, err
		}
		var rec assess.Record
		if err := decodeStrict(raw, &rec); err != nil {
			return 0, fmt.Errorf("samples[%d]: %w", n, err)
		}
		h := sha256.Sum256([]byte(rec.ID))
		k := [16]byte(h[:16])
		if _, dup := seen[k]; dup || rec.ID == "" || rec.Suite == "" {
			return 0, fmt.Errorf("samples[%d]: missing or repeated id or suite: %w", n, errBadRequest)
		}
		seen[k] = struct{}{}
		if put != nil {
			if err := put(work.SampleOf(n, &rec, raw)); err != nil {
				return 0, err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return 0, fmt.Errorf("samples: %s: %w", review.DescribeJSONError(err), errBadRequest)
	}
	if n == 0 {
		return 0, fmt.Errorf("samples: want 1..%d records, got 0: %w", maxImportSamples, errBadRequest)
	}
	return n, nil
}

// checkImportRun checks run.json and metrics.json of an import.
func checkImportRun(run, metrics json.RawMessage) error {
	if len(run) == 0 || run[0] != '{' {
		return fmt.Errorf("run: want the run.json object: %w", errBadRequest)
	}
	var m assess.Metrics
	if err := json.Unmarshal(metrics, &m); err != nil || m.Schema != assess.MetricsSchema {
		return fmt.Errorf("metrics: want a metrics.json object of schema %s: %w", assess.MetricsSchema, errBadRequest)
	}
	return nil
}

func (handlers) importAssessment(w http.ResponseWriter, r *http.Request, a review.Actor) error {
	s := srv(r)
	caseID := r.PathValue("id")
	// Refuse callers who may not import before reading their body.
	if err := s.svc.CheckImport(r.Context(), a, caseID); err != nil {
		return err
	}
	sp, err := spoolImport(w, r, s.tempDir, maxImportBytes)
	if err != nil {
		return err
	}
	defer sp.Close()
	rd, err := sp.reader()
	if err != nil {
		return err
	}
	run, metrics, n, err := scanImport(rd, nil)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("samples: want 1..%d records, got 0: %w", maxImportSamples, errBadRequest)
	}
	if err := checkImportRun(run, metrics); err != nil {
		return err
	}
	var ref *review.ReferenceInput
	if name := r.URL.Query().Get("reference"); name != "" || r.URL.Query().Has("reference_digest") {
		ref = &review.ReferenceInput{Name: name, Digest: r.URL.Query().Get("reference_digest")}
	}
	as, err := s.svc.ImportAssessment(r.Context(), a, caseID, review.ImportedRun{Spec: run, Metrics: metrics, Reference: ref,
		Samples: func(put func(review.Sample) error) error {
			rd, err := sp.reader()
			if err != nil {
				return err
			}
			_, _, _, err = scanImport(rd, put)
			return err
		}})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toAssessment(as))
	return nil
}

// RemoveSpools removes the import spools a crashed server left in dir
// (unreadable: each was sealed to a key that lived only in memory).
func RemoveSpools(dir string) error {
	names, err := filepath.Glob(filepath.Join(dir, "import-*.age"))
	if err != nil {
		return fmt.Errorf("remove import spools: %w", err)
	}
	for _, n := range names {
		if err := os.Remove(n); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove import spools: %w", err)
		}
	}
	return nil
}
