package work

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/egress"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/target"
)

// openAITarget builds the default target of a case: an OpenAI-compatible
// endpoint at the case's target URL, sent through hc (an egress policy's
// client, which dials only allowed addresses and follows no redirect).
func openAITarget(timeout time.Duration, hc *http.Client) func(review.Case, []byte) (assess.Target, assess.TargetInfo, error) {
	return func(c review.Case, cred []byte) (assess.Target, assess.TargetInfo, error) {
		base := strings.TrimRight(c.TargetURL, "/")
		if !strings.HasSuffix(base, "/v1") {
			base += "/v1"
		}
		model := c.ModelName
		t, err := target.NewOpenAI(target.OpenAIConfig{BaseURL: base, Model: model, APIKey: strings.TrimSpace(string(cred)),
			Timeout: timeout, HTTPClient: hc})
		if err != nil {
			return nil, assess.TargetInfo{}, err
		}
		return t, assess.TargetInfo{Kind: "openai", Model: model, BaseURL: base, Identity: t.Identity()}, nil
	}
}

// redactTarget wraps the targets build makes so that their errors carry
// only a kind and an HTTP status (redactError).
func redactTarget(build func(review.Case, []byte) (assess.Target, assess.TargetInfo, error)) func(review.Case, []byte) (assess.Target, assess.TargetInfo, error) {
	return func(c review.Case, cred []byte) (assess.Target, assess.TargetInfo, error) {
		t, info, err := build(c, cred)
		if err != nil {
			return nil, info, err
		}
		return redactedTarget{t}, info, nil
	}
}

// redactedTarget is a case's target whose failed requests are described
// by their kind and HTTP status only. A sample's error is shown to the
// developer who submitted the case, and the endpoint's own text is not
// theirs to read: the endpoint may be a service inside the agency (an
// allowed network, or a host the developer got the service to reach)
// whose error body carries secrets, and the difference between
// "connection refused" and a timeout would map the agency's ports.
type redactedTarget struct{ assess.Target }

func (t redactedTarget) Complete(ctx context.Context, req target.Request) (target.Response, error) {
	resp, err := t.Target.Complete(ctx, req)
	if err != nil {
		return resp, redactError(err)
	}
	return resp, nil
}

// redactError returns a *target.Error with err's kind, HTTP status and
// Retry-After, and a message made of those alone. A refusal by the
// egress policy (address or redirect) becomes KindRefused, which is not
// retried. The cause stays in Err for errors.Is; it is never recorded.
func redactError(err error) error {
	te := target.AsError(err)
	out := &target.Error{Kind: te.Kind, Status: te.Status, RetryAfter: te.RetryAfter, Err: te.Err}
	switch {
	case errors.Is(err, egress.ErrRefusedAddress):
		out.Kind, out.Status, out.RetryAfter = target.KindRefused, 0, 0
		out.Msg = "the endpoint's address is not one the service may reach (egress policy)"
	case errors.Is(err, egress.ErrRedirect):
		out.Kind, out.RetryAfter = target.KindRefused, 0
		out.Msg = "the endpoint answered with a redirect, which the service does not follow"
	case out.Status != 0:
		out.Msg = fmt.Sprintf("the endpoint answered HTTP %d", out.Status)
		if text := http.StatusText(out.Status); text != "" {
			out.Msg += " " + text
		}
	default:
		out.Msg = kindMessage[out.Kind]
		if out.Msg == "" {
			out.Msg = "the request failed"
		}
	}
	return out
}

// kindMessage describes the kinds of failure that have no HTTP status.
var kindMessage = map[target.ErrorKind]string{
	target.KindTimeout:    "the request timed out",
	target.KindConnection: "the connection to the endpoint failed",
	target.KindMalformed:  "the endpoint's answer is not a usable chat completion",
	target.KindClient:     "the request could not be sent",
	target.KindUnknown:    "no answer is recorded for the prompt",
}
