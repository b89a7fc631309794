package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Validate reports every problem in c, each naming the key, the value and the rule.
func (c Config) Validate() Problems {
	var p Problems
	bad := func(key string, value any, rule string) {
		p = append(p, fmt.Sprintf("%s: %s, got %v", key, rule, quoteIfString(value)))
	}
	oneOf := func(key, value string, allowed ...string) {
		if !slices.Contains(allowed, value) {
			bad(key, value, "must be one of "+strings.Join(allowed, ", "))
		}
	}
	atLeast := func(key string, value, lo int) {
		if value < lo {
			bad(key, value, fmt.Sprintf("must be at least %d", lo))
		}
	}

	if u, err := url.Parse(c.Weaviate.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("weaviate.url", c.Weaviate.URL, "must be an http(s) URL with a host")
	}
	if c.Weaviate.GRPCAddress != "" {
		if _, _, err := net.SplitHostPort(c.Weaviate.GRPCAddress); err != nil {
			bad("weaviate.grpc_address", c.Weaviate.GRPCAddress, "must be host:port")
		}
	}
	if c.Weaviate.Collection == "" || !isUpper(c.Weaviate.Collection[0]) {
		bad("weaviate.collection", c.Weaviate.Collection, "must start with an upper-case letter (Weaviate class names do)")
	}
	if u, err := url.Parse(c.Weaviate.ServiceURL); c.Weaviate.ServiceURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		bad("weaviate.service_url", c.Weaviate.ServiceURL, "must be empty or an http(s) URL with a host")
	}
	if c.Weaviate.Timeout <= 0 {
		bad("weaviate.timeout", c.Weaviate.Timeout, "must be positive")
	}
	oneOf("weaviate.distance", c.Weaviate.Distance, "cosine", "dot", "l2-squared", "hamming", "manhattan")
	oneOf("weaviate.quantization", c.Weaviate.Quantization, "", "pq", "sq", "rq", "bq")
	oneOf("weaviate.consistency", strings.ToUpper(c.Weaviate.Consistency), "ONE", "QUORUM", "ALL")
	if c.Weaviate.HNSW.EF < -1 || c.Weaviate.HNSW.EF == 0 {
		bad("weaviate.hnsw.ef", c.Weaviate.HNSW.EF, "must be -1 (dynamic) or positive")
	}
	atLeast("weaviate.hnsw.efConstruction", c.Weaviate.HNSW.EFConstruction, 4)
	atLeast("weaviate.hnsw.maxConnections", c.Weaviate.HNSW.MaxConnections, 4)
	atLeast("weaviate.sharding.desiredCount", c.Weaviate.Sharding.DesiredCount, 1)
	atLeast("weaviate.replication.factor", c.Weaviate.Replication.Factor, 1)

	if _, _, err := net.SplitHostPort(c.Module.Listen); err != nil {
		bad("module.listen", c.Module.Listen, "must be host:port")
	}
	if c.Module.BodyLimit < 1024 {
		bad("module.body_limit", c.Module.BodyLimit, "must be at least 1024 bytes")
	}
	atLeast("module.batch_size", c.Module.BatchSize, 1)
	if c.Module.BatchWait < 0 {
		bad("module.batch_wait", c.Module.BatchWait, "must not be negative")
	}

	if c.Plugin.StartTimeout <= 0 {
		bad("plugin.start_timeout", c.Plugin.StartTimeout, "must be positive")
	}
	atLeast("plugin.max_restarts", c.Plugin.MaxRestarts, 0)
	if c.Plugin.RestartBackoff < 0 {
		bad("plugin.restart_backoff", c.Plugin.RestartBackoff, "must not be negative")
	}

	oneOf("encoder.pooling", c.Encoder.Pooling, "", "cls", "mean")
	atLeast("encoder.max_length", c.Encoder.MaxLength, 8)
	atLeast("encoder.batch_size", c.Encoder.BatchSize, 1)
	atLeast("encoder.threads", c.Encoder.Threads, 0)

	if len(c.Generator.Languages) == 0 {
		bad("generator.languages", "[]", "must name at least one language")
	}
	for _, l := range c.Generator.Languages {
		if _, ok := Languages[l]; !ok {
			bad("generator.languages", l, "must be one of ar, bn, fi, ja, ko, ru, te")
		}
	}
	atLeast("generator.queries_per_language", c.Generator.QueriesPerLanguage, 1)
	oneOf("generator.strategy", c.Generator.Strategy, "sample", "greedy", "beam")
	atLeast("generator.top_k", c.Generator.TopK, 0)
	if c.Generator.Temperature <= 0 {
		bad("generator.temperature", c.Generator.Temperature, "must be positive")
	}
	atLeast("generator.num_beams", c.Generator.NumBeams, 1)
	atLeast("generator.max_new_tokens", c.Generator.MaxNewTokens, 1)
	if !strings.Contains(c.Generator.PromptTemplate, "{passage}") {
		bad("generator.prompt_template", c.Generator.PromptTemplate, "must contain {passage}")
	}
	atLeast("generator.batch_size", c.Generator.BatchSize, 1)
	atLeast("generator.threads", c.Generator.Threads, 0)

	if c.Augment.Alpha < 0 || c.Augment.Alpha > 1 {
		bad("augment.alpha", c.Augment.Alpha, "must be within [0,1]")
	}
	oneOf("augment.mode", c.Augment.Mode, "sum", "mean")

	oneOf("ort.provider", c.ORT.Provider, "cpu", "cuda", "tensorrt")
	atLeast("ort.device_id", c.ORT.DeviceID, 0)
	return p
}

func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }

func quoteIfString(v any) any {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return v
}
