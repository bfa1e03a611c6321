"""Evaluation on labelled data: BEIR datasets, ranking metrics, and the runner behind
``ragsilo eval``."""

from ragsilo.eval.beir import BeirDataset, load_beir
from ragsilo.eval.metrics import dedupe, mrr_at_k, ndcg_at_k, recall_at_k
from ragsilo.eval.runner import EvalReport, EvalRow, ingest_dataset, run_eval

__all__ = [
    "BeirDataset",
    "EvalReport",
    "EvalRow",
    "dedupe",
    "ingest_dataset",
    "load_beir",
    "mrr_at_k",
    "ndcg_at_k",
    "recall_at_k",
    "run_eval",
]
