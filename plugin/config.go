package plugin

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/go-viper/mapstructure/v2"

	"github.com/xqg/xqg/config"
)

// BackendConfig is the part of xqg's configuration a backend needs. The host sends it in the
// Configure call as JSON keyed like the YAML file (encoder.model_dir, generator.languages, …).
type BackendConfig struct {
	Encoder   config.Encoder   `mapstructure:"encoder"`
	Generator config.Generator `mapstructure:"generator"`
	Augment   config.Augment   `mapstructure:"augment"`
	Cache     config.Cache     `mapstructure:"cache"`
	ORT       config.ORT       `mapstructure:"ort"`
}

// BackendConfigOf picks the backend sections out of a whole configuration.
func BackendConfigOf(c config.Config) BackendConfig {
	return BackendConfig{Encoder: c.Encoder, Generator: c.Generator, Augment: c.Augment, Cache: c.Cache, ORT: c.ORT}
}

// MarshalConfig encodes c as the Configure payload.
func MarshalConfig(c BackendConfig) ([]byte, error) {
	return json.Marshal(toMap(reflect.ValueOf(c)))
}

// UnmarshalConfig decodes a Configure payload. Unknown keys are errors, so a host newer than the
// plugin is told so instead of having a setting silently ignored.
func UnmarshalConfig(data []byte) (BackendConfig, error) {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return BackendConfig{}, fmt.Errorf("%w: configure payload: %v", ErrInvalidInput, err)
	}
	var c BackendConfig
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           &c,
		ErrorUnused:      true,
		WeaklyTypedInput: true,
		DecodeHook:       mapstructure.StringToTimeDurationHookFunc(),
	})
	if err != nil {
		return BackendConfig{}, err
	}
	if err := dec.Decode(raw); err != nil {
		return BackendConfig{}, fmt.Errorf("%w: configure payload: %v", ErrInvalidInput, err)
	}
	return c, nil
}

// toMap turns a struct into nested maps keyed by its mapstructure tags (durations as strings).
func toMap(v reflect.Value) any {
	if v.Type() == reflect.TypeOf(time.Duration(0)) {
		return time.Duration(v.Int()).String()
	}
	switch v.Kind() {
	case reflect.Struct:
		m := make(map[string]any, v.NumField())
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			key := f.Tag.Get("mapstructure")
			if key == "" {
				key = f.Name
			}
			m[key] = toMap(v.Field(i))
		}
		return m
	case reflect.Slice:
		if v.IsNil() {
			return []any{}
		}
		s := make([]any, v.Len())
		for i := range s {
			s[i] = toMap(v.Index(i))
		}
		return s
	default:
		return v.Interface()
	}
}
