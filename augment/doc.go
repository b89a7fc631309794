// Package augment is xQG's passage augmentation: an mT5 seq2seq model (ONNX Runtime) generates
// questions about a passage in several languages, the bi-encoder embeds passage and questions, and
// Fuse combines them into one vector, v = (1-α)·E(p) + α·Σ E(q). Generated queries are kept in an
// on-disk cache so re-ingest and re-fusion with another α never regenerate.
//
// The pure-Go parts (fusion, the cache, prompt building, sampling) live in files without cgo so
// that they can be reused without linking ONNX Runtime; generator.go and pipeline.go need it.
package augment
