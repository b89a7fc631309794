#!/usr/bin/env bash
# Regenerates the tokenizer parity fixtures in $XQG_CACHE_DIR/tokenizer-fixtures
# (nothing goes into the repository): the test text, two SentencePiece models
# trained here with spm_train, the real tokenizer files shipped in Go modules,
# tokenizer.json conversions of every .model (our Go converter), and reference
# ids from spm_encode (C++) and @huggingface/tokenizers (JavaScript, node).
# Idempotent: does nothing when the inputs are unchanged. Needs: spm_train,
# spm_encode (apt: sentencepiece), node + npm, go, /usr/bin/python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${XQG_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/xqg}
OUT=$CACHE/tokenizer-fixtures
DATA=${XQG_SHARED_DATA:-$ROOT/../shared/data}
NODE_PREFIX=$CACHE/node
HF_JS_VERSION=0.2.0
DAULET=github.com/daulet/tokenizers@v1.24.0
CYBERTRON=github.com/nlpodyssey/cybertron@v0.2.1
PY=/usr/bin/python3

for tool in spm_train spm_encode node npm go; do
  command -v "$tool" >/dev/null || { echo "tokenizer-fixtures: $tool not found (apt-get install -y sentencepiece nodejs npm)" >&2; exit 1; }
done
[ -d "$DATA/ntrex-128" ] || { echo "tokenizer-fixtures: shared data not found at $DATA" >&2; exit 1; }

stamp=$( (cd "$ROOT" && cat scripts/tokenizer/fixtures.sh scripts/tokenizer/make_lines.py scripts/tokenizer/hf_encode.mjs \
  scripts/tokenizer/convert/main.go vectorizer/tokenizer/write.go vectorizer/tokenizer/spm.go;
  echo "$HF_JS_VERSION $DAULET $CYBERTRON"; spm_train --version 2>&1 | head -1; ls -l "$DATA"/ntrex-128 "$DATA"/tatoeba) | sha256sum | cut -c1-16)
if [ -f "$OUT/STAMP" ] && [ "$(cat "$OUT/STAMP")" = "$stamp" ]; then
  echo "tokenizer-fixtures: up to date ($OUT)"
  exit 0
fi

mkdir -p "$CACHE"
tmp=$(mktemp -d "$CACHE/tokenizer-fixtures.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/ref"

# The JavaScript reference, installed outside the repository.
if [ ! -f "$NODE_PREFIX/node_modules/@huggingface/tokenizers/package.json" ] ||
   ! grep -q "\"version\": \"$HF_JS_VERSION\"" "$NODE_PREFIX/node_modules/@huggingface/tokenizers/package.json"; then
  mkdir -p "$NODE_PREFIX"
  npm install --prefix "$NODE_PREFIX" --ignore-scripts --no-audit --no-fund --no-save "@huggingface/tokenizers@$HF_JS_VERSION" >/dev/null
fi

$PY "$ROOT/scripts/tokenizer/make_lines.py" "$DATA" "$tmp/lines.txt"

# A multilingual Unigram model (8k) and a byte-fallback one with reduced
# character coverage, trained on all NTREX-128 and Tatoeba text.
cat "$DATA"/ntrex-128/newstest2019-*.txt "$DATA"/tatoeba/tatoeba.* > "$tmp/train.txt"
spm_train --input="$tmp/train.txt" --model_prefix="$tmp/multi8k" --vocab_size=8000 --model_type=unigram \
  --character_coverage=0.9995 --num_threads=2 --minloglevel=2 >/dev/null 2>&1
spm_train --input="$tmp/train.txt" --model_prefix="$tmp/multi4k-bytes" --vocab_size=4000 --model_type=unigram \
  --character_coverage=0.98 --byte_fallback=true --num_threads=2 --minloglevel=2 >/dev/null 2>&1
rm -f "$tmp/train.txt" "$tmp"/*.vocab

# Real tokenizer files from Go modules (module cache only; not in go.mod).
moddir() { (cd "$tmp" && go mod download -json "$1") | $PY -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'; }
d=$(moddir "$DAULET")
cp "$d/test/data/bert-base-uncased.json" "$d/test/data/all-minilm-l6-v2.json" "$tmp/"
c=$(moddir "$CYBERTRON")/pkg/tokenizers/sentencepiece/internal/sentencepiece/test_data
cp "$c/spm.model" "$tmp/albert.model"
cp "$c/xlnet-base-cased-spiece.model" "$tmp/xlnet.model"
chmod u+w "$tmp"/*

(cd "$ROOT" && go build -o "$tmp/convert" ./scripts/tokenizer/convert)
for m in multi8k multi4k-bytes albert xlnet; do
  spm_encode --model="$tmp/$m.model" --output_format=id < "$tmp/lines.txt" > "$tmp/ref/$m.spm.ids"
  "$tmp/convert" "$tmp/$m.model" "$tmp/$m.json"
done
rm -f "$tmp/convert"
# The JavaScript package approximates Precompiled by NFKC plus a few regex
# replacements (it does not read the charsmap) and has no Unigram
# byte_fallback, so its reference runs on NFKC variants of the conversions;
# the charsmap itself is checked against spm_encode.
$PY - "$tmp" <<'PYEOF'
import json, sys
d = sys.argv[1]
for m in ["multi8k", "albert", "xlnet"]:
    with open("%s/%s.json" % (d, m), encoding="utf-8") as f:
        j = json.load(f)
    n = j["normalizer"]["normalizers"]
    j["normalizer"]["normalizers"] = [{"type": "NFKC"} if x["type"] == "Precompiled" else x for x in n]
    with open("%s/%s-nfkc.json" % (d, m), "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False)
PYEOF
for j in bert-base-uncased all-minilm-l6-v2 multi8k-nfkc albert-nfkc xlnet-nfkc; do
  node "$ROOT/scripts/tokenizer/hf_encode.mjs" "$NODE_PREFIX" "$tmp/$j.json" "$tmp/lines.txt" "$tmp/ref/$j.hf.ids"
done

echo "$stamp" > "$tmp/STAMP"
rm -rf "$OUT"
mv "$tmp" "$OUT"
trap - EXIT
echo "tokenizer-fixtures: written to $OUT"
