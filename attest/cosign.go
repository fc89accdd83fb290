package attest

import (
	"fmt"
	"strings"
)

// CosignTrustedRoot is an empty Sigstore trusted root. cosign v2's
// --new-bundle-format path insists on a trusted root even for key-signed
// bundles (which need no Fulcio, Rekor or timestamp authority) and would
// otherwise fetch the public-good one over TUF; handing it this file keeps
// verification offline. Write it to trusted_root.json.
const CosignTrustedRoot = `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}` + "\n"

// CosignCommand returns the cosign v2 command line that verifies a decision
// bundle offline, by a weight file's path (artifact) or, when artifact is
// empty, by the OMS root digest (rootHex). Checked with cosign v2.6.1.
func CosignCommand(pubPath, bundlePath, trustedRootPath, artifact, rootHex string) string {
	args := []string{"cosign", "verify-blob-attestation",
		"--key", pubPath, "--bundle", bundlePath,
		"--new-bundle-format", "--trusted-root", trustedRootPath,
		"--insecure-ignore-tlog=true", "--type", DecisionPredicateType}
	if artifact != "" {
		args = append(args, artifact)
	} else {
		args = append(args, "--digest", rootHex, "--digestAlg", "sha256")
	}
	for i, a := range args {
		if strings.ContainsAny(a, " \t'\"$`\\") {
			args[i] = fmt.Sprintf("'%s'", strings.ReplaceAll(a, "'", `'\''`))
		}
	}
	return strings.Join(args, " ")
}
