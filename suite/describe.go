package suite

import (
	"slices"
)

// Count is a label with a number, for listings in a stable order.
type Count struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// Description summarises a suite for `clearance suites` and reports.
type Description struct {
	Name        string        `json:"name"`
	Version     string        `json:"version"`
	Description string        `json:"description,omitempty"`
	Digest      string        `json:"digest"`
	Items       int           `json:"items"`
	Samples     int           `json:"samples"` // applicable (item, transform) pairs: the size of an unlimited plan
	Kinds       []Count       `json:"kinds"`
	Categories  []Count       `json:"categories"`
	Scorers     []Count       `json:"scorers"`
	Transforms  []Count       `json:"transforms"` // samples per transform
	Metrics     []Metric      `json:"metrics"`
	GroupBy     []string      `json:"group_by"`
	Datasets    []DatasetInfo `json:"datasets"` // with Rows = items (or templates) used
	Licenses    []string      `json:"licenses"`
	Sources     []string      `json:"sources"`
}

// Describe summarises s.
func (s *Suite) Describe() Description {
	d := Description{
		Name: s.Name, Version: s.Version, Description: s.Description, Digest: s.digest,
		Items: len(s.items), Metrics: slices.Clone(s.Metrics), GroupBy: slices.Clone(s.GroupBy),
		Datasets: s.DatasetsUsed(),
	}
	var kinds, cats, scorers, trs counter
	for i := range s.items {
		it := &s.items[i]
		kinds.add(it.Kind)
		cats.add(it.Category)
		scorers.add(it.Scorer)
	}
	c := &tctx{res: s.res, pool: s.pool}
	for ti := range s.tdefs {
		t := &s.tdefs[ti]
		n := 0
		for i := range s.items {
			if t.applies(c, &s.items[i]) {
				n++
			}
		}
		trs.list = append(trs.list, Count{t.Name, n})
		d.Samples += n
	}
	d.Kinds, d.Categories, d.Scorers, d.Transforms = kinds.sorted(), cats.sorted(), scorers.sorted(), trs.list
	for _, u := range d.Datasets {
		if !slices.Contains(d.Licenses, u.License) {
			d.Licenses = append(d.Licenses, u.License)
		}
		if !slices.Contains(d.Sources, u.Source) {
			d.Sources = append(d.Sources, u.Source)
		}
	}
	return d
}

type counter struct{ list []Count }

func (c *counter) add(name string) {
	for i := range c.list {
		if c.list[i].Name == name {
			c.list[i].Count++
			return
		}
	}
	c.list = append(c.list, Count{name, 1})
}

func (c *counter) sorted() []Count {
	slices.SortFunc(c.list, func(a, b Count) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return c.list
}
