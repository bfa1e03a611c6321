"""Ingestion: from paths on disk to chunks in Milvus."""

from ragsilo.ingest.pipeline import Ingestor, ProgressCallback

__all__ = ["Ingestor", "ProgressCallback"]
