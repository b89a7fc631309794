package plugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/xqg/xqg/plugin/proto"
)

// ErrNotConfigured is returned by a plugin that has not received its Configure call yet.
// It is retryable: the host configures every plugin it starts.
var ErrNotConfigured = fmt.Errorf("%w: plugin not configured yet", ErrUnavailable)

// statusOf maps an error of a backend to the gRPC status sent to the host.
func statusOf(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Internal
	switch {
	case errors.Is(err, ErrNotConfigured):
		code = codes.FailedPrecondition
	case errors.Is(err, ErrInvalidInput):
		code = codes.InvalidArgument
	case errors.Is(err, ErrUnavailable):
		code = codes.Unavailable
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	return status.Error(code, err.Error())
}

// errorOf maps a gRPC error received by the host back to the sentinels. ctx is the call's
// context, so a cancelled call reports the caller's own context error.
func errorOf(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	switch st.Code() {
	case codes.InvalidArgument:
		return fmt.Errorf("%w: %s", ErrInvalidInput, itemErrorMessage(st.Message(), ErrInvalidInput))
	case codes.Unavailable, codes.FailedPrecondition, codes.Aborted, codes.ResourceExhausted:
		return fmt.Errorf("%w: %s", ErrUnavailable, itemErrorMessage(st.Message(), ErrUnavailable))
	case codes.Canceled, codes.DeadlineExceeded:
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("vectorizer call: %w", cerr)
		}
		// The plugin gave up by itself (its own deadline): treat as transient.
		return fmt.Errorf("%w: %s", ErrUnavailable, st.Message())
	default:
		return fmt.Errorf("vectorizer: %s: %s", st.Code(), st.Message())
	}
}

func itemErrorOf(err error) *pb.ItemError {
	if err == nil {
		return nil
	}
	code := pb.ErrorCode_ERROR_CODE_INTERNAL
	switch {
	case errors.Is(err, ErrInvalidInput):
		code = pb.ErrorCode_ERROR_CODE_INVALID_INPUT
	case errors.Is(err, ErrUnavailable):
		code = pb.ErrorCode_ERROR_CODE_UNAVAILABLE
	}
	return &pb.ItemError{Code: code, Message: err.Error()}
}

// itemErrorMessage strips the sentinel prefix the backend's message already carries, so the
// re-wrapped error does not read "invalid input: invalid input: …".
func itemErrorMessage(msg string, sentinel error) string {
	p := sentinel.Error() + ": "
	if len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}

func errorOfItem(e *pb.ItemError) error {
	if e == nil {
		return nil
	}
	switch e.Code {
	case pb.ErrorCode_ERROR_CODE_INVALID_INPUT:
		return fmt.Errorf("%w: %s", ErrInvalidInput, itemErrorMessage(e.Message, ErrInvalidInput))
	case pb.ErrorCode_ERROR_CODE_UNAVAILABLE:
		return fmt.Errorf("%w: %s", ErrUnavailable, itemErrorMessage(e.Message, ErrUnavailable))
	default:
		return errors.New(e.Message)
	}
}

func infoToPB(i Info) *pb.InfoResponse {
	return &pb.InfoResponse{
		Encoder:            modelToPB(i.Encoder),
		Generator:          modelToPB(i.Generator),
		Dimension:          int32(i.Dimension),
		Generation:         i.Generation,
		Languages:          i.Languages,
		QueriesPerLanguage: int32(i.QueriesPerLanguage),
		MaxBatch:           int32(i.MaxBatch),
		Alpha:              i.Alpha,
		FusionMode:         i.FusionMode,
		Normalize:          i.Normalize,
		Provider:           i.Provider,
		Versions:           i.Versions,
		Backend:            i.Backend,
	}
}

func infoFromPB(p *pb.InfoResponse) Info {
	return Info{
		Encoder:            modelFromPB(p.GetEncoder()),
		Generator:          modelFromPB(p.GetGenerator()),
		Dimension:          int(p.GetDimension()),
		Generation:         p.GetGeneration(),
		Languages:          p.GetLanguages(),
		QueriesPerLanguage: int(p.GetQueriesPerLanguage()),
		MaxBatch:           int(p.GetMaxBatch()),
		Alpha:              p.GetAlpha(),
		FusionMode:         p.GetFusionMode(),
		Normalize:          p.GetNormalize(),
		Provider:           p.GetProvider(),
		Versions:           p.GetVersions(),
		Backend:            p.GetBackend(),
	}
}

func modelToPB(m ModelInfo) *pb.ModelInfo {
	return &pb.ModelInfo{Name: m.Name, Path: m.Path, Sha256: m.SHA256, MaxLength: int32(m.MaxLength), Pooling: m.Pooling}
}

func modelFromPB(m *pb.ModelInfo) ModelInfo {
	return ModelInfo{Name: m.GetName(), Path: m.GetPath(), SHA256: m.GetSha256(), MaxLength: int(m.GetMaxLength()), Pooling: m.GetPooling()}
}

func textsToPB(m map[string][]string) map[string]*pb.Texts {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]*pb.Texts, len(m))
	for k, v := range m {
		out[k] = &pb.Texts{Texts: v}
	}
	return out
}

func textsFromPB(m map[string]*pb.Texts) map[string][]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = v.GetTexts()
	}
	return out
}

func vectorsToPB(m map[string][][]float32) map[string]*pb.Vectors {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]*pb.Vectors, len(m))
	for k, vs := range m {
		l := &pb.Vectors{Vectors: make([]*pb.Vector, len(vs))}
		for i, v := range vs {
			l.Vectors[i] = &pb.Vector{Values: v}
		}
		out[k] = l
	}
	return out
}

func vectorsFromPB(m map[string]*pb.Vectors) map[string][][]float32 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string][][]float32, len(m))
	for k, l := range m {
		vs := make([][]float32, len(l.GetVectors()))
		for i, v := range l.GetVectors() {
			vs[i] = v.GetValues()
		}
		out[k] = vs
	}
	return out
}

func passagesToPB(ps []Passage) []*pb.Passage {
	out := make([]*pb.Passage, len(ps))
	for i, p := range ps {
		out[i] = &pb.Passage{Id: p.ID, Title: p.Title, Text: p.Text, Queries: textsToPB(p.Queries)}
	}
	return out
}

func passagesFromPB(ps []*pb.Passage) []Passage {
	out := make([]Passage, len(ps))
	for i, p := range ps {
		out[i] = Passage{ID: p.GetId(), Title: p.GetTitle(), Text: p.GetText(), Queries: textsFromPB(p.GetQueries())}
	}
	return out
}

func passagesRequestToPB(ps []Passage, opts Options) *pb.EmbedPassagesRequest {
	return &pb.EmbedPassagesRequest{Passages: passagesToPB(ps), WithParts: opts.WithParts, PlainOnly: opts.PlainOnly}
}

func optionsFromPB(r *pb.EmbedPassagesRequest) Options {
	return Options{WithParts: r.GetWithParts(), PlainOnly: r.GetPlainOnly()}
}

func passageResultToPB(r PassageResult) *pb.PassageResult {
	if r.Err != nil {
		return &pb.PassageResult{Id: r.ID, Error: itemErrorOf(r.Err)}
	}
	return &pb.PassageResult{
		Id:                r.ID,
		Vector:            r.Vector,
		PassageVector:     r.PassageVector,
		Queries:           textsToPB(r.Queries),
		QueryVectors:      vectorsToPB(r.QueryVectors),
		Truncated:         r.Truncated,
		CacheHit:          r.CacheHit,
		GenerationSeconds: r.GenerationTime.Seconds(),
	}
}

func passageResultFromPB(p *pb.PassageResult) PassageResult {
	if p.GetError() != nil {
		return PassageResult{ID: p.GetId(), Err: errorOfItem(p.GetError())}
	}
	return PassageResult{
		ID:             p.GetId(),
		Vector:         p.GetVector(),
		PassageVector:  p.GetPassageVector(),
		Queries:        textsFromPB(p.GetQueries()),
		QueryVectors:   vectorsFromPB(p.GetQueryVectors()),
		Truncated:      p.GetTruncated(),
		CacheHit:       p.GetCacheHit(),
		GenerationTime: time.Duration(p.GetGenerationSeconds() * float64(time.Second)),
	}
}

func queryResultToPB(r QueryResult) *pb.QueryResult {
	if r.Err != nil {
		return &pb.QueryResult{Error: itemErrorOf(r.Err)}
	}
	return &pb.QueryResult{Vector: r.Vector, Truncated: r.Truncated}
}

func queryResultFromPB(p *pb.QueryResult) QueryResult {
	if p.GetError() != nil {
		return QueryResult{Err: errorOfItem(p.GetError())}
	}
	return QueryResult{Vector: p.GetVector(), Truncated: p.GetTruncated()}
}
