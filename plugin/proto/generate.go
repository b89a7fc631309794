// Package vectorizerpb is the generated gRPC code of vectorizer.proto. Regenerate with `make proto`
// (protoc from Debian's protobuf-compiler plus the pinned protoc-gen-go and protoc-gen-go-grpc).
package vectorizerpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative vectorizer.proto
