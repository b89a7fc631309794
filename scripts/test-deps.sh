#!/usr/bin/env bash
# Installs the Debian packages the reference-parity tests compare against, when missing:
# SentencePiece (spm_train/spm_encode and its Python binding) and NLTK (word_tokenize, for R@kt).
# Idempotent: a machine that has them does nothing.
set -euo pipefail
missing=()
command -v spm_encode >/dev/null 2>&1 || missing+=(sentencepiece)
/usr/bin/python3 -c 'import sentencepiece' >/dev/null 2>&1 || missing+=(python3-sentencepiece)
/usr/bin/python3 -c 'import nltk' >/dev/null 2>&1 || missing+=(python3-nltk)
if [ ${#missing[@]} -eq 0 ]; then
  echo "test-deps: sentencepiece, python3-sentencepiece, python3-nltk already installed"
  exit 0
fi
echo "test-deps: installing ${missing[*]} with apt-get"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
