package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// EnvPrefix prefixes every environment variable xqg reads for configuration.
const EnvPrefix = "XQG"

// Options says where a Load looks besides the defaults.
type Options struct {
	// File is a YAML file; empty means $XQG_CONFIG, else none.
	File string
	// Overrides are command-line values by key (from flags or --set key=value); they win over everything.
	Overrides map[string]string
	// Environ replaces os.Environ, for tests.
	Environ []string
}

// Source says where an effective value came from.
type Source string

const (
	SourceDefault Source = "default"
	SourceFile    Source = "file"
	SourceEnv     Source = "env"
	SourceFlag    Source = "flag"
)

// Loaded is a validated configuration and the origin of each of its values.
type Loaded struct {
	Config  Config
	File    string
	Sources map[string]Source
}

// Problems lists every configuration problem found at once.
type Problems []string

func (p Problems) Error() string {
	return "invalid configuration:\n  " + strings.Join(p, "\n  ")
}

// Load reads, merges and validates the configuration. The error is a Problems when the
// configuration itself is wrong (a usage error for the CLI), any other error when a file cannot be read.
func Load(opts Options) (*Loaded, error) {
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	env := envMap(environ)
	file := opts.File
	if file == "" {
		file = env[EnvPrefix+"_CONFIG"]
	}

	v := viper.New()
	keys := Keys()
	defaults := flatten(Defaults())
	for _, k := range keys {
		v.SetDefault(k, defaults[k])
	}

	sources := make(map[string]Source, len(keys))
	for _, k := range keys {
		sources[k] = SourceDefault
	}
	var problems Problems

	if file != "" {
		v.SetConfigFile(file)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			var notFound *os.PathError
			if errors.As(err, &notFound) {
				return nil, fmt.Errorf("config file %s: %w", file, err)
			}
			return nil, Problems{fmt.Sprintf("config file %s: %v", file, err)}
		}
		known := make(map[string]bool, len(keys))
		for _, k := range keys {
			known[strings.ToLower(k)] = true
		}
		for _, k := range fileKeys(v) {
			if known[k] {
				sources[canonical(k)] = SourceFile
				continue
			}
			if !isSectionKey(k, keys) {
				msg := fmt.Sprintf("%s: unknown key in %s", k, file)
				if s := suggest(k, keys); s != "" {
					msg += fmt.Sprintf(" (did you mean %s?)", s)
				}
				problems = append(problems, msg)
			}
		}
	}

	for _, k := range keys {
		name := EnvVar(k)
		if val, ok := env[name]; ok {
			v.Set(k, val)
			sources[k] = SourceEnv
		}
	}
	overrideKeys := make([]string, 0, len(opts.Overrides))
	for k := range opts.Overrides {
		overrideKeys = append(overrideKeys, k)
	}
	sort.Strings(overrideKeys)
	for _, k := range overrideKeys {
		ck := canonical(k)
		if _, ok := sources[ck]; !ok {
			msg := fmt.Sprintf("%s: unknown key", k)
			if s := suggest(strings.ToLower(k), keys); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			problems = append(problems, msg)
			continue
		}
		v.Set(ck, opts.Overrides[k])
		sources[ck] = SourceFlag
	}

	var cfg Config
	if err := v.Unmarshal(&cfg); err != nil {
		problems = append(problems, unmarshalProblems(err)...)
	}
	if len(problems) == 0 {
		problems = append(problems, cfg.Validate()...)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return &Loaded{Config: cfg, File: file, Sources: sources}, nil
}

// EnvVar is the environment variable that sets key.
func EnvVar(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Keys lists every configuration key in struct order.
func Keys() []string {
	var keys []string
	walk(reflect.TypeOf(Config{}), "", func(key string, _ reflect.Type) { keys = append(keys, key) })
	return keys
}

func walk(t reflect.Type, prefix string, visit func(string, reflect.Type)) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := prefix + f.Tag.Get("mapstructure")
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			walk(f.Type, key+".", visit)
			continue
		}
		visit(key, f.Type)
	}
}

// flatten returns every leaf value of c by key.
func flatten(c Config) map[string]any {
	out := map[string]any{}
	var rec func(v reflect.Value, prefix string)
	rec = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			key := prefix + f.Tag.Get("mapstructure")
			if f.Type.Kind() == reflect.Struct {
				rec(v.Field(i), key+".")
				continue
			}
			out[key] = v.Field(i).Interface()
		}
	}
	rec(reflect.ValueOf(c), "")
	return out
}

// Values returns the effective value of every key, for printing.
func (c Config) Values() map[string]any { return flatten(c) }

// canonical maps a key in any case to its spelling in Keys.
func canonical(k string) string {
	for _, key := range Keys() {
		if strings.EqualFold(key, k) {
			return key
		}
	}
	return k
}

func isSectionKey(k string, keys []string) bool {
	for _, key := range keys {
		if strings.HasPrefix(strings.ToLower(key), k+".") {
			return true
		}
	}
	return false
}

// fileKeys lists the leaf keys the file set, lower-cased as viper stores them.
func fileKeys(v *viper.Viper) []string {
	var out []string
	var rec func(m map[string]any, prefix string)
	rec = func(m map[string]any, prefix string) {
		for k, val := range m {
			key := prefix + strings.ToLower(k)
			if sub, ok := val.(map[string]any); ok && len(sub) > 0 {
				rec(sub, key+".")
				continue
			}
			out = append(out, key)
		}
	}
	// A fresh viper holding only the file's contents, so defaults do not hide unknown keys.
	only := viper.New()
	only.SetConfigType("yaml")
	only.SetConfigFile(v.ConfigFileUsed())
	if err := only.ReadInConfig(); err != nil {
		return nil
	}
	rec(only.AllSettings(), "")
	sort.Strings(out)
	return out
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// unmarshalProblems turns mapstructure's joined decode errors into one line per key.
func unmarshalProblems(err error) Problems {
	var out Problems
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "*"))
		if line == "" || strings.HasPrefix(line, "decoding failed due to") || strings.HasSuffix(line, "error(s) decoding:") {
			continue
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		out = Problems{err.Error()}
	}
	return out
}

// suggest returns the known key closest to k by edit distance, if close enough to be a typo.
func suggest(k string, keys []string) string {
	best, bestD := "", 4
	for _, key := range keys {
		if d := editDistance(strings.ToLower(k), strings.ToLower(key)); d < bestD {
			best, bestD = key, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
