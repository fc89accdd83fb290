package ui

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// dossierEvent is one event of the dossier's timeline.
type dossierEvent struct {
	Date  string // as declared, "2026-05-01" or RFC 3339
	Type  string // "model_shared", shown with spaces
	Class string
	Ref   string
	Note  string
}

// dossierEvents returns the dossier's "events" array, oldest first, and
// the fields without it; a dossier without events returns fields as is.
func dossierEvents(fields []dossierField) ([]dossierEvent, []dossierField) {
	var out []dossierField
	var evs []dossierEvent
	for _, f := range fields {
		if f.Key != "events" {
			out = append(out, f)
			continue
		}
		var raw []dossierEvent
		var js []struct {
			Type, Date, Class, Ref, Note string
		}
		if json.Unmarshal([]byte(f.Value), &js) != nil {
			out = append(out, f)
			continue
		}
		for _, e := range js {
			raw = append(raw, dossierEvent{Date: e.Date, Type: strings.ReplaceAll(e.Type, "_", " "), Class: e.Class, Ref: e.Ref, Note: e.Note})
		}
		evs = append(evs, raw...)
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Date < evs[j].Date })
	return evs, out
}

// formatDossierValue shows a dossier value for people: quantities with
// their unit by the key's name (FLOP, USD, parameters, days), large
// numbers in words or powers of ten, booleans as yes/no, dates as dates.
// Values it does not recognise are returned as they are.
func formatDossierValue(key, v string) string {
	name := key[strings.LastIndexByte(key, '.')+1:]
	switch v {
	case "true":
		return "yes"
	case "false":
		return "no"
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC().Format("2 January 2006 15:04 MST")
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t.Format("2 January 2006")
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return v
	}
	switch {
	case strings.HasSuffix(name, "_flop") || strings.HasSuffix(name, "_operations"):
		return powerOfTen(x) + " FLOP"
	case strings.HasSuffix(name, "_usd"):
		return "USD " + inWords(x)
	case strings.HasSuffix(name, "_eur"):
		return "EUR " + inWords(x)
	case name == "parameters" || strings.HasSuffix(name, "_parameters"):
		return inWords(x) + " parameters"
	case strings.HasSuffix(name, "_days"):
		return plural(x, "day")
	case strings.HasSuffix(name, "_hours"):
		return plural(x, "hour")
	}
	if math.Abs(x) >= 1e6 {
		return inWords(x)
	}
	return v
}

// powerOfTen writes 3.4e26 as "3.4 × 10²⁶".
func powerOfTen(x float64) string {
	if x == 0 {
		return "0"
	}
	exp := int(math.Floor(math.Log10(math.Abs(x))))
	if exp < 6 {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	m := x / math.Pow(10, float64(exp))
	return strconv.FormatFloat(math.Round(m*100)/100, 'f', -1, 64) + " × 10" + superscript(exp)
}

func superscript(n int) string {
	const digits = "⁰¹²³⁴⁵⁶⁷⁸⁹"
	var b strings.Builder
	for _, c := range strconv.Itoa(n) {
		if c == '-' {
			b.WriteString("⁻")
			continue
		}
		b.WriteString(string([]rune(digits)[c-'0']))
	}
	return b.String()
}

// inWords writes 1.2e9 as "1.2 billion".
func inWords(x float64) string {
	for _, u := range []struct {
		v    float64
		name string
	}{{1e12, "trillion"}, {1e9, "billion"}, {1e6, "million"}} {
		if math.Abs(x) >= u.v {
			return strconv.FormatFloat(math.Round(x/u.v*100)/100, 'f', -1, 64) + " " + u.name
		}
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

func plural(x float64, unit string) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if x == 1 {
		return s + " " + unit
	}
	return s + " " + unit + "s"
}

// planView is an assessment's fixed spec as a table: its suites with
// their sizes, and the run's settings.
type planView struct {
	Suites  []planSuite
	Seed    int64
	Samples int
	Shard   int
	Source  string
	Judge   string
}

type planSuite struct {
	Name, Version, Digest string
	Limit                 int
	Kinds                 string
}

// planOf reads an assessment's spec; ok is false when it is not the
// expected object (the page then shows the raw spec only).
func planOf(spec []byte) (planView, bool) {
	var s struct {
		Suites []struct {
			Name    string   `json:"name"`
			Version string   `json:"version"`
			Digest  string   `json:"digest"`
			Limit   int      `json:"limit"`
			Kinds   []string `json:"kinds"`
		} `json:"suites"`
		Seed      int64  `json:"seed"`
		Samples   int    `json:"samples"`
		ShardSize int    `json:"shard_size"`
		Source    string `json:"source"`
		Judge     *struct {
			URL, Model, Rubric string
		} `json:"judge"`
	}
	if json.Unmarshal(spec, &s) != nil || len(s.Suites) == 0 {
		return planView{}, false
	}
	p := planView{Seed: s.Seed, Samples: s.Samples, Shard: s.ShardSize, Source: s.Source}
	for _, x := range s.Suites {
		d := x.Digest
		if len(d) > 19 {
			d = d[:19] + "…"
		}
		p.Suites = append(p.Suites, planSuite{Name: x.Name, Version: x.Version, Digest: d, Limit: x.Limit, Kinds: strings.Join(x.Kinds, ", ")})
	}
	if s.Judge != nil {
		p.Judge = fmt.Sprintf("%s at %s (rubric %s)", s.Judge.Model, s.Judge.URL, s.Judge.Rubric)
	}
	return p, true
}
