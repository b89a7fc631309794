// Package config loads xqg's one typed configuration with viper, in increasing precedence:
// defaults, a YAML file, XQG_* environment variables, command-line overrides.
package config

import "time"

// Config is the whole configuration. Keys are the mapstructure tags joined by dots
// (e.g. weaviate.hnsw.efConstruction); environment variables are XQG_ + the key upper-cased with
// dots replaced by underscores (XQG_WEAVIATE_HNSW_EFCONSTRUCTION).
type Config struct {
	Weaviate  Weaviate  `mapstructure:"weaviate"`
	Module    Module    `mapstructure:"module"`
	Plugin    Plugin    `mapstructure:"plugin"`
	Encoder   Encoder   `mapstructure:"encoder"`
	Generator Generator `mapstructure:"generator"`
	Augment   Augment   `mapstructure:"augment"`
	Cache     Cache     `mapstructure:"cache"`
	ORT       ORT       `mapstructure:"ort"`
}

// Weaviate names the server xqg writes to and how collections are created there.
// HNSW, sharding and replication keys mirror Weaviate's own names.
type Weaviate struct {
	URL          string        `mapstructure:"url"`
	GRPCAddress  string        `mapstructure:"grpc_address"`
	APIKey       string        `mapstructure:"api_key"`
	Collection   string        `mapstructure:"collection"`
	Timeout      time.Duration `mapstructure:"timeout"`
	Distance     string        `mapstructure:"distance"`
	Quantization string        `mapstructure:"quantization"`
	// Consistency is the consistency level of batch writes (ONE, QUORUM, ALL).
	Consistency string `mapstructure:"consistency"`
	// ServiceURL is `xqg serve` as Weaviate reaches it; empty = bring-your-own vectors (vectorizer none).
	ServiceURL  string      `mapstructure:"service_url"`
	HNSW        HNSW        `mapstructure:"hnsw"`
	Sharding    Sharding    `mapstructure:"sharding"`
	Replication Replication `mapstructure:"replication"`
}

// HNSW holds the vector index parameters of both named vectors.
type HNSW struct {
	EF             int `mapstructure:"ef"`
	EFConstruction int `mapstructure:"efConstruction"`
	MaxConnections int `mapstructure:"maxConnections"`
}

// Sharding is Weaviate's shardingConfig.
type Sharding struct {
	DesiredCount int `mapstructure:"desiredCount"`
}

// Replication is Weaviate's replicationConfig.
type Replication struct {
	Factor int `mapstructure:"factor"`
}

// Module is the HTTP service Weaviate's text2vec-transformers module calls.
type Module struct {
	Listen    string        `mapstructure:"listen"`
	BodyLimit int64         `mapstructure:"body_limit"`
	BatchSize int           `mapstructure:"batch_size"`
	BatchWait time.Duration `mapstructure:"batch_wait"`
}

// Plugin is the out-of-process vectorizer and its supervision.
type Plugin struct {
	Path           string        `mapstructure:"path"`
	StartTimeout   time.Duration `mapstructure:"start_timeout"`
	MaxRestarts    int           `mapstructure:"max_restarts"`
	RestartBackoff time.Duration `mapstructure:"restart_backoff"`
}

// Encoder is the multilingual bi-encoder (an Optimum ONNX export folder).
type Encoder struct {
	ModelDir string `mapstructure:"model_dir"`
	// Pooling is cls or mean; empty means what the model folder's 1_Pooling/config.json says, else cls.
	Pooling       string `mapstructure:"pooling"`
	Normalize     bool   `mapstructure:"normalize"`
	MaxLength     int    `mapstructure:"max_length"`
	BatchSize     int    `mapstructure:"batch_size"`
	Threads       int    `mapstructure:"threads"`
	QueryPrefix   string `mapstructure:"query_prefix"`
	PassagePrefix string `mapstructure:"passage_prefix"`
}

// Generator is the cross-lingual query generator (an Optimum seq2seq export folder).
type Generator struct {
	ModelDir           string   `mapstructure:"model_dir"`
	Languages          []string `mapstructure:"languages"`
	QueriesPerLanguage int      `mapstructure:"queries_per_language"`
	// Strategy is sample (top-k with temperature, the paper's), greedy or beam.
	Strategy       string  `mapstructure:"strategy"`
	TopK           int     `mapstructure:"top_k"`
	Temperature    float64 `mapstructure:"temperature"`
	NumBeams       int     `mapstructure:"num_beams"`
	MaxNewTokens   int     `mapstructure:"max_new_tokens"`
	Seed           int64   `mapstructure:"seed"`
	PromptTemplate string  `mapstructure:"prompt_template"`
	BatchSize      int     `mapstructure:"batch_size"`
	Threads        int     `mapstructure:"threads"`
}

// Augment is the fusion of the passage vector with its generated queries' vectors.
type Augment struct {
	Alpha float64 `mapstructure:"alpha"`
	// Mode sum is the released fuse_embeds.py: (1-α)·p + α·Σq; mean uses α·mean(q).
	Mode      string `mapstructure:"mode"`
	Normalize bool   `mapstructure:"normalize"`
}

// Cache is the folder outside the clone for everything xqg downloads, builds or generates: ONNX
// Runtime, weaviate-server, generated models, and the generated-query cache (its queries/ subfolder,
// so re-ingest and re-fusion never regenerate). Its environment variable XQG_CACHE_DIR is the one
// internal/cachedir reads, so both always agree; empty means ${XDG_CACHE_HOME:-~/.cache}/xqg.
type Cache struct {
	Dir string `mapstructure:"dir"`
}

// ORT locates the ONNX Runtime shared library and picks its execution provider.
type ORT struct {
	LibraryPath string `mapstructure:"library_path"`
	Provider    string `mapstructure:"provider"`
	DeviceID    int    `mapstructure:"device_id"`
}

// Languages are the seven XOR-TyDi target languages, by the names the paper's prompt uses.
var Languages = map[string]string{
	"ar": "Arabic", "bn": "Bengali", "fi": "Finnish", "ja": "Japanese",
	"ko": "Korean", "ru": "Russian", "te": "Telugu",
}

// Defaults returns the configuration used when nothing else is given.
func Defaults() Config {
	return Config{
		Weaviate: Weaviate{
			URL:         "http://127.0.0.1:8080",
			GRPCAddress: "127.0.0.1:50051",
			Collection:  "Passage",
			Timeout:     60 * time.Second,
			Distance:    "cosine",
			Consistency: "QUORUM",
			HNSW:        HNSW{EF: -1, EFConstruction: 128, MaxConnections: 32},
			Sharding:    Sharding{DesiredCount: 1},
			Replication: Replication{Factor: 1},
		},
		Module: Module{
			Listen:    "127.0.0.1:8090",
			BodyLimit: 1 << 20,
			BatchSize: 32,
			BatchWait: 5 * time.Millisecond,
		},
		Plugin: Plugin{
			StartTimeout:   60 * time.Second,
			MaxRestarts:    5,
			RestartBackoff: 500 * time.Millisecond,
		},
		Encoder: Encoder{
			MaxLength: 256,
			BatchSize: 32,
		},
		Generator: Generator{
			Languages:          []string{"ar", "bn", "fi", "ja", "ko", "ru", "te"},
			QueriesPerLanguage: 5,
			Strategy:           "sample",
			TopK:               10,
			Temperature:        1.0,
			NumBeams:           4,
			MaxNewTokens:       32,
			Seed:               42,
			PromptTemplate:     "Generate a {language} question for this passage: {title} {passage}",
			BatchSize:          35,
		},
		Augment: Augment{Alpha: 0.01, Mode: "sum"},
		ORT:     ORT{Provider: "cpu"},
	}
}
