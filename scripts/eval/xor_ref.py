#!/usr/bin/python3
"""Reference implementation of XOR-TyDi's official eval_xor_retrieve.py
(github.com/AkariAsai/XORQA, evals/eval_xor_retrieve.py), used by the Go
tests in eval/ to check that xqg scores a run the same way.

The official script calls nltk.word_tokenize, which loads the trained English
Punkt model (tokenizers/punkt/english.pickle). Debian's python3-nltk ships
without it and it cannot be fetched offline, so this script builds
word_tokenize from the same NLTK parts with an untrained
PunktSentenceTokenizer (or with parameters read from a punkt_tab directory,
--punkt-tab DIR). Apart from the model the logic is the official one.

Modes:
  tokenize  stdin: JSON string per line; stdout: JSON token list per line
  sentences stdin: JSON string per line; stdout: JSON sentence list per line
  score     --data_file XOR_JSONL --pred_file RUN_JSON [--max_token_num N]...
            stdout: JSON {"<N>": {"<lang>": {"count": c, "hit": h}}}
  classes   stdout: JSON lists of code points matching \\w, \\d, \\s,
            isupper(), islower(), and the unassigned ones (to check the Go
            classes)
"""
import argparse
import json
import os
import re
import sys

from nltk.tokenize.destructive import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer


def load_punkt_tab(path):
    params = PunktParameters()

    def lines(name):
        p = os.path.join(path, name)
        if not os.path.exists(p):
            return []
        with open(p, encoding="utf-8") as f:
            return [l.rstrip("\r\n") for l in f if l.strip("\r\n")]

    params.abbrev_types = set(lines("abbrev_types.txt"))
    params.sent_starters = set(lines("sentence_starters.txt"))
    params.collocations = set(tuple(l.split("\t")) for l in lines("collocations.tab"))
    for l in lines("ortho_context.tab"):
        typ, flags = l.split("\t")
        params.ortho_context[typ] |= int(flags)
    return params


def make_tokenizers(punkt_tab):
    if punkt_tab:
        sent = PunktSentenceTokenizer(load_punkt_tab(punkt_tab))
    else:
        sent = PunktSentenceTokenizer()
    treebank = NLTKWordTokenizer()

    def word_tokenize(text):
        # nltk.tokenize.word_tokenize with preserve_line=False.
        return [t for s in sent.tokenize(text) for t in treebank.tokenize(s)]

    return sent, word_tokenize


def evaluate_top_k_hit(results, gt_answers, word_tokenize, max_token_num=5000):
    # Official logic, line for line.
    per_lang = {}
    for item in results:
        q_id = item["id"]
        lang = item["lang"]
        per_lang.setdefault(lang, {"count": 0, "hit": 0})
        ctxs = item["ctxs"]
        if q_id not in gt_answers:
            continue
        answers = gt_answers[q_id]
        span_answers = []
        for answer in answers:
            if answer not in ["yes", "no"]:
                span_answers.append(answer)
        if len(span_answers) == 0:
            continue
        per_lang[lang]["count"] += 1
        concat_string_tokens = []
        for ctx_text in ctxs:
            tokenized_text = word_tokenize(ctx_text)
            concat_string_tokens += tokenized_text
            if len(concat_string_tokens) >= max_token_num:
                break
        concat_string_tokens = concat_string_tokens[:max_token_num]
        concat_string = " ".join(concat_string_tokens)
        hit = False
        for answer in span_answers:
            if answer in concat_string:
                hit = True
        if hit is True:
            per_lang[lang]["hit"] += 1
    return {lang: r for lang, r in per_lang.items() if r["count"] > 0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["tokenize", "sentences", "score", "classes"])
    ap.add_argument("--punkt-tab", default=None)
    ap.add_argument("--data_file")
    ap.add_argument("--pred_file")
    ap.add_argument("--max_token_num", type=int, action="append")
    args = ap.parse_args()
    sent, word_tokenize = make_tokenizers(args.punkt_tab)
    out = sys.stdout

    if args.mode in ("tokenize", "sentences"):
        for line in sys.stdin:
            text = json.loads(line)
            res = word_tokenize(text) if args.mode == "tokenize" else sent.tokenize(text)
            out.write(json.dumps(res, ensure_ascii=False) + "\n")
    elif args.mode == "score":
        with open(args.pred_file, encoding="utf-8") as f:
            predictions = json.load(f)
        with open(args.data_file, encoding="utf-8") as f:
            input_data = [json.loads(l) for l in f if l.strip()]
        qid2answers = {item["id"]: item["answers"] for item in input_data}
        res = {}
        for n in args.max_token_num or [2000, 5000]:
            res[str(n)] = evaluate_top_k_hit(predictions, qid2answers, word_tokenize, n)
        json.dump(res, out, ensure_ascii=False)
    else:
        w, d, s = re.compile(r"\w"), re.compile(r"\d"), re.compile(r"\s")
        import unicodedata

        cls = {"w": [], "d": [], "s": [], "upper": [], "lower": [], "unassigned": []}
        for i in range(0x110000):
            c = chr(i)
            if w.match(c):
                cls["w"].append(i)
            if d.match(c):
                cls["d"].append(i)
            if s.match(c):
                cls["s"].append(i)
            if c.isupper():
                cls["upper"].append(i)
            if c.islower():
                cls["lower"].append(i)
            if unicodedata.category(c) == "Cn":
                cls["unassigned"].append(i)
        json.dump(cls, out)


if __name__ == "__main__":
    main()
