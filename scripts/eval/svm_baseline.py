"""The recommender arxiv-sanity-lite uses, as the floor ours must beat:
per reader, a linear SVM on tf-idf features (word 1- and 2-grams of title,
authors and abstract) trained with the library as positives and every other
paper as negatives; papers ranked by the SVM's decision value.

Usage: python3 svm_baseline.py PROFILES.jsonl PAPERS.jsonl [MORE.jsonl ...]
Prints nDCG@20 and Recall@20 over the held-out papers of each profile
(written here from the description of arxiv-sanity-lite's method: tf-idf
with sublinear tf, bigrams, max_df 0.1, min_df 5; LinearSVC C=0.01 with
balanced class weights).
"""
import json
import math
import sys

from sklearn import svm
from sklearn.feature_extraction.text import TfidfVectorizer


def ndcg_at(ranked, relevant, k):
    dcg = sum(1 / math.log2(i + 2) for i, p in enumerate(ranked[:k]) if p in relevant)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / idcg if idcg else 0.0


def main():
    profiles = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    ids, texts = [], []
    for path in sys.argv[2:]:
        for line in open(path):
            if not line.strip():
                continue
            r = json.loads(line)
            ids.append(r["id"])
            texts.append(f"{r['title']} | {r.get('authors', '')} {r.get('abstract', '')}")
    v = TfidfVectorizer(
        strip_accents="unicode", lowercase=True, analyzer="word", stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2),
        max_features=20000, norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True,
        max_df=0.1, min_df=5,
    )
    x = v.fit_transform(texts)
    index = {p: i for i, p in enumerate(ids)}
    total_n, total_r = 0.0, 0.0
    for prof in profiles:
        lib = set(prof["library"])
        y = [1 if p in lib else 0 for p in ids]
        clf = svm.LinearSVC(class_weight="balanced", max_iter=10000, tol=1e-6, C=0.01)
        clf.fit(x, y)
        s = clf.decision_function(x)
        order = sorted((i for i in range(len(ids)) if ids[i] not in lib), key=lambda i: -s[i])
        ranked = [ids[i] for i in order[:20]]
        held = set(prof["held_out"])
        n, r = ndcg_at(ranked, held, 20), len(held & set(ranked)) / len(held)
        print(f"  {prof['id']}: nDCG@20 {n:.3f} R@20 {r:.3f}")
        total_n += n
        total_r += r
    k = len(profiles)
    print(f"svm (arxiv-sanity-lite)  nDCG@20 {total_n / k:.3f}  Recall@20 {total_r / k:.3f}")


if __name__ == "__main__":
    main()
