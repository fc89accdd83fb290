package assess

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/clearance-dev/clearance/agent"
	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// Record is one line of samples.jsonl: a sample, the conversation as sent,
// the answer, its verdict, and what it cost.
type Record struct {
	ID        string           `json:"id"`
	Suite     string           `json:"suite"`
	Item      string           `json:"item"`
	Behavior  string           `json:"behavior"`
	Category  string           `json:"category"`
	Transform string           `json:"transform"`
	Kind      string           `json:"kind"`
	Scorer    string           `json:"scorer"`
	Messages  []target.Message `json:"messages"` // every turn sent, with the model's earlier answers
	Response  string           `json:"response"` // the final answer, the one scored
	Verdict   *score.Verdict   `json:"verdict,omitempty"`
	// Refusal is the refusal scorer's verdict on a harmful item whose
	// Verdict came from a harm scorer (harm or the judge): attack success
	// is measured as harm, and the refusal rate beside it (RefusalMetric)
	// from this verdict. Nil for other samples.
	Refusal *score.Verdict `json:"refusal,omitempty"`
	// Task and Episode are set for exploit samples (suite cyber-exploit):
	// the challenge instance and the agent's episode, turn by turn. The
	// flag is in neither except in tool outputs and the submitted answer.
	Task      *suite.TaskRef `json:"task,omitempty"`
	Episode   *agent.Episode `json:"episode,omitempty"`
	Error     *SampleError   `json:"error,omitempty"`
	Requests  int            `json:"requests"` // model calls made, retries included; 0 when all came from the cache
	Cached    bool           `json:"cached"`
	Usage     target.Usage   `json:"usage"`
	LatencyMS float64        `json:"latency_ms"`
	StartedAt time.Time      `json:"started_at"`
}

// SampleError is a sample's failure after retries: the target's or the
// scorer's. A sample with an error is excluded from every rate.
type SampleError struct {
	Source   string `json:"source"` // "target" or "scorer"
	Kind     string `json:"kind"`   // target.ErrorKind, or "scorer"
	Status   int    `json:"status,omitempty"`
	Message  string `json:"message"`
	Attempts int    `json:"attempts,omitempty"`
}

// Failed reports whether the sample has no usable verdict.
func (r *Record) Failed() bool {
	return r.Error != nil || r.Verdict == nil || r.Verdict.Err != ""
}

// maxRecordBytes bounds one samples.jsonl line; a longer line is rejected
// rather than read into memory.
const maxRecordBytes = 64 << 20

// ReadRecords calls fn for each record of a samples.jsonl stream in order.
// A malformed line is an error naming its line number.
func ReadRecords(r io.Reader, fn func(line int, rec *Record) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	for line := 1; ; line++ {
		b, err := readLine(br)
		if len(b) > 0 {
			var rec Record
			if uerr := json.Unmarshal(b, &rec); uerr != nil {
				return fmt.Errorf("samples line %d: %w", line, uerr)
			}
			if rec.ID == "" {
				return fmt.Errorf("samples line %d: record has no id", line)
			}
			if ferr := fn(line, &rec); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("samples line %d: %w", line, err)
		}
	}
}

func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxRecordBytes {
			return nil, errors.New("line too long")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimSpace(buf), err
	}
}

// repairTail truncates samples.jsonl after its last complete line: a process
// killed mid-write leaves a partial line that must not be read as a sample.
// It returns the size kept.
func repairTail(path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	const block = 1 << 16
	end := size
	buf := make([]byte, block)
	for end > 0 {
		start := max(end-block, 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && err != io.EOF {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			keep := start + int64(i) + 1
			if keep != size {
				if err := f.Truncate(keep); err != nil {
					return 0, err
				}
			}
			return keep, nil
		}
		end = start
	}
	if size != 0 {
		if err := f.Truncate(0); err != nil {
			return 0, err
		}
	}
	return 0, nil
}
