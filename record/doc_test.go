package record

// corpusDir holds the project's real captures; the decoders are checked
// against the same log as the app wrote it and as the runtimes stored it.
const corpusDir = "../testdata/corpus"
