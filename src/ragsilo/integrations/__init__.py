"""Adapters for the frameworks RAG code is written in, each an extra:

- :mod:`ragsilo.integrations.langchain` (``pip install "ragsilo[langchain]"``):
  ``RagsiloVectorStore`` and ``RagsiloRetriever``;
- :mod:`ragsilo.integrations.llama_index` (``pip install "ragsilo[llama-index]"``):
  ``RagsiloRetriever`` and ``RagsiloVectorStore``.

Each is built around an open :class:`ragsilo.Silo`. Importing this package imports
neither framework.
"""
