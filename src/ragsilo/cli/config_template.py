"""The commented configuration file that ``ragsilo init`` writes."""

CONFIG_TEMPLATE = """\
# ragsilo configuration.
# Every value can also be set with an environment variable: RAGSILO_<SECTION>__<FIELD>,
# e.g. RAGSILO_MILVUS__URI=http://localhost:19530, or with a CLI option (--uri, --collection).
# Precedence: CLI options > environment > this file > defaults.

milvus:
  # A path ending in .db is an embedded Milvus Lite file (no server needed).
  # http://host:19530 is a Milvus standalone or distributed server.
  uri: ./ragsilo.db
  # Login for a server with authentication: token "user:password" (or an API key),
  # or user + password. Prefer env vars or secret files over writing secrets here.
  # token: root:Milvus
  # token_file: /run/secrets/milvus_token
  # user: reader
  # password_file: /run/secrets/milvus_password
  db_name: ""            # empty: the server's default database
  timeout: 30            # seconds per call
  tls: false             # encrypt the connection (implied by https:// or ca_file)
  # ca_file: /etc/ragsilo/ca.pem            # the server certificate or CA to trust
  # server_name: milvus.internal            # when the certificate's name is not the host
  # client_cert_file: /etc/ragsilo/client.pem   # mutual TLS (with client_key_file, ca_file)
  # client_key_file: /etc/ragsilo/client.key

collection:
  name: ragsilo
  consistency_level: Strong   # Strong | Bounded | Session | Eventually
  shards: 1
  tenants: false         # a tenant partition key; every call then names its tenant
                         # (fixed when the collection is created)
  tenant_partitions: 16  # partitions the tenants are hashed into
  replicas: 1            # in-memory replicas when loading (each needs a query node)
  vector_codes: true     # an 8-bit copy of each vector (dimension + 4 bytes, base64) that
                         # reranking fetches instead of the vectors (fixed at creation)

index:
  type: auto             # auto | FLAT | IVF_FLAT | IVF_SQ8 | IVF_PQ | HNSW | DISKANN | SCANN
                         # | AUTOINDEX | GPU_CAGRA | GPU_IVF_FLAT | GPU_IVF_PQ | GPU_BRUTE_FORCE
  metric: COSINE         # COSINE | IP | L2
  params: {}             # build parameters, e.g. {M: 16, efConstruction: 200} for HNSW
  search_params: {}      # search parameters, e.g. {ef: 64} for HNSW
  # memory_budget_mb: 4096   # auto: when HNSW would not fit, DISKANN / IVF_SQ8 / IVF_PQ
  recall_target: 0.95    # auto: tunes HNSW ef and IVF nprobe
  gpu: false             # the server is a Milvus GPU image (needed for the GPU_* types)

embedding:
  provider: onnx         # onnx (offline default) | sentence-transformers | openai
  model: all-MiniLM-L6-v2
  # model_path: /models/my-model.onnx     # another ONNX model (with tokenizer_path)
  # base_url: http://localhost:8000/v1    # for provider: openai
  # dimension: 384                        # checked against the model when set
  batch_size: 32         # texts per model batch at most
  # batch_tokens: 512    # ONNX on the CPU: padded tokens per batch (default: 256 per thread)
  max_tokens: 256
  device: auto           # auto | cpu | cuda
  # threads: 2           # ONNX intra-op threads (default: all cores)

chunking:
  size: 200              # tokens per chunk (of the embedding model's tokenizer)
  overlap: 32            # tokens shared with the previous chunk

ingest:
  workers: 2             # parallel parse workers
  max_file_mb: 50        # larger files are refused with a clear error
  retries: 5             # retries of transient Milvus errors, with backoff
  backoff_seconds: 0.5
  batch_mb: 16           # upsert batch size in MB (gRPC caps a message at 64 MB)
  journal: true          # record every file's state in a small SQLite journal
                         # (ingest --retry-failed reads it)
  # state_dir: ./.ragsilo  # where a server's journals live (a Milvus Lite journal
                         # always sits next to its .db file)
  queue_files: 64        # files in flight between the stages (bounds memory)

parsing:                 # per-file budgets: a file over one fails alone, saying which
  max_text_chars: 50000000   # text extracted from one file
  max_pdf_pages: 5000
  max_page_content_mb: 4     # decoded content streams of one PDF page
  max_pdf_content_mb: 256    # ... and of all its pages together
  max_unpacked_mb: 64        # a Word file's ZIP members, inflated
  max_columns: 1000          # columns of one CSV/TSV row
  max_line_chars: 1000000    # one line of a CSV, TSV or JSON Lines file
  max_metadata_fields: 64    # fields a CSV row or JSON record carries into each chunk
  max_metadata_bytes: 8192

quality:
  enabled: true          # score every chunk in [0, 1]; low scores go to <collection>_quarantine
  threshold: 0.5         # chunks scoring under this are quarantined
  min_chars: 12          # shorter chunks are "too short": scored 0.8 (kept) when they hold
                         # real words (a title-only record), quarantined when they hold none
  near_duplicate_similarity: 0.97   # cosine similarity to a stored chunk of another
                         # document that makes a near-duplicate; 0 = off
  exact_duplicates: true # the same text as a stored chunk of another document is a duplicate
  boilerplate: []        # extra regular expressions of boilerplate lines

images:                  # png, jpg, webp, gif, tiff, bmp (needs ragsilo[image] and tesseract)
  ocr: true              # read the text in images with Tesseract
  ocr_language: eng      # Tesseract language codes, e.g. eng+deu
  pdf_images: false      # also OCR the images embedded in PDF files
  docx_images: false     # also OCR the images embedded in Word files
  max_pixels: 50000000   # larger images are refused (decompression bombs)
  thumbnail_px: 96       # a JPEG thumbnail this size in the chunk metadata; 0 = none
  ocr_timeout: 60        # seconds per image
  # model: /models/clip-vit-base-patch32   # a CLIP model: image vectors, search --image

search:
  top_k: 5

retrieval:
  mode: dense            # dense | bm25 | hybrid (bm25, hybrid: Milvus Lite or Milvus >= 2.5)
  fusion: rrf            # hybrid: rrf (reciprocal rank) | weighted (min-max normalised scores)
  rrf_k: 60              # the RRF constant: score = sum of weight / (rrf_k + rank)
  weights: {dense: 0.5, bm25: 0.5}   # the two lists' weights, for either fusion
  analyzer: english      # english | chinese (jieba on Milvus Lite) | standard
                         # | {Milvus analyzer_params}; fixed when the collection is created
  bm25_k1: 1.2           # BM25 term-frequency saturation
  bm25_b: 0.75           # BM25 length normalisation
  rerank: cluster_smooth # none | cluster_smooth | cluster_distance | cluster_size
                         # | centroid_query | mmr
                         # | custom:package.module:function
                         # | an entry point of the group ragsilo.rerankers
  mmr_lambda: 0.7        # mmr: 1 = relevance only, 0 = diversity only
  cluster_weight: 0.25   # cluster_smooth: share of a hit's score from its neighbours (0 to 1)
  candidates: 50         # hits a reranker reorders (and each hybrid list brings)
  route_clusters: 0      # search only the N clusters nearest the query; 0 = search everything

clustering:
  k: auto                # number of clusters, or auto (about the square root of the chunk count)
  max_k: 1024            # the most clusters auto picks
  seed: 0                # the same seed and data give the same clusters
  sample_size: 100000    # fit on at most this many vectors
  max_iter: 100
  tol: 0.0001
  batch_size: 2048       # mini-batch size when fitting more than full_batch_max vectors
  full_batch_max: 30000
  assign_on_ingest: true # new chunks get their nearest centroid's cluster id
  partitions: auto       # one partition per cluster (fast routing on Milvus Lite);
                         # auto = on Lite when retrieval.route_clusters > 0
  keywords: 6            # keywords kept per cluster
  representatives: 3     # chunks nearest each centre kept per cluster

service:                 # ragsilo serve: the HTTP API and web page
  host: 127.0.0.1
  port: 8000
  api_keys_file: ragsilo-keys.json   # managed with `ragsilo keys create|list|revoke`
  require_api_key: false # once the key file holds keys, they are required anyway
  max_body_mb: 100
  max_upload_mb: 50
  max_files: 20
  max_k: 100
  max_query_chars: 2000
  cors_origins: []

llm:                     # /ask with an OpenAI-compatible chat model; unset = extractive answers
  # base_url: http://localhost:11434/v1
  # model: llama3.1
  # api_key: ...         # prefer RAGSILO_LLM__API_KEY
  timeout: 60
  max_context_tokens: 3000
  temperature: 0.0
"""
