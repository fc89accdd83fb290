package policy

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
)

//go:embed profiles/*.yaml
var profileFS embed.FS

// BuiltinIDs returns the ids of the embedded profiles, sorted.
func BuiltinIDs() []string {
	ents, err := profileFS.ReadDir("profiles")
	if err != nil {
		return nil
	}
	var ids []string
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// BuiltinSource returns the YAML of an embedded profile.
func BuiltinSource(id string) ([]byte, error) {
	data, err := profileFS.ReadFile(path.Join("profiles", id+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("read builtin profile %q: %w", id, ErrUnknownProfile)
	}
	return data, nil
}

// builtins loads and compiles every embedded profile once. The result is
// immutable.
var builtins = sync.OnceValues(func() (map[string]*Profile, error) {
	out := map[string]*Profile{}
	loading := map[string]bool{}
	var resolve Resolver
	resolve = func(id string) (*Profile, error) {
		if p, ok := out[id]; ok {
			return p, nil
		}
		if loading[id] {
			return nil, fmt.Errorf("extends cycle through %q: %w", id, ErrInvalidProfile)
		}
		data, err := BuiltinSource(id)
		if err != nil {
			return nil, err
		}
		loading[id] = true
		p, err := load("builtin:"+id, data, resolve, len(loading))
		delete(loading, id)
		if err != nil {
			return nil, err
		}
		if p.ID != id {
			return nil, fmt.Errorf("builtin profile file %s.yaml has id %q", id, p.ID)
		}
		out[id] = p
		return p, nil
	}
	for _, id := range BuiltinIDs() {
		if _, err := resolve(id); err != nil {
			return nil, err
		}
	}
	return out, nil
})

// Builtin returns the embedded profile with the given id, compiled. It
// returns an error wrapping ErrUnknownProfile for an unknown id.
func Builtin(id string) (*Profile, error) {
	all, err := builtins()
	if err != nil {
		return nil, fmt.Errorf("load builtin profiles: %w", err)
	}
	p, ok := all[id]
	if !ok {
		return nil, fmt.Errorf("profile %q: %w (built in: %s)", id, ErrUnknownProfile, strings.Join(BuiltinIDs(), ", "))
	}
	return p, nil
}

// Builtins returns every embedded profile, sorted by id.
func Builtins() ([]*Profile, error) {
	all, err := builtins()
	if err != nil {
		return nil, fmt.Errorf("load builtin profiles: %w", err)
	}
	out := make([]*Profile, 0, len(all))
	for _, id := range sortedKeys(all) {
		out = append(out, all[id])
	}
	return out, nil
}
