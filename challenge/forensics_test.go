package challenge

import "testing"

func TestForensicsCatalogue(t *testing.T) { cfTestCatalogue(t, Forensics, forensicsGenerators) }

func TestForensicsGenerate(t *testing.T) { cfTestStatic(t, forensicsGenerators) }

func TestForensicsSolutions(t *testing.T) { cfTestSolutions(t, forensicsGenerators) }
