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

collection:
  name: ragsilo
  consistency_level: Strong   # Strong | Bounded | Session | Eventually
  shards: 1

index:
  type: auto             # auto | FLAT | IVF_FLAT | IVF_SQ8 | IVF_PQ | HNSW | DISKANN | SCANN
                         # | AUTOINDEX | GPU_CAGRA | GPU_IVF_FLAT | GPU_IVF_PQ | GPU_BRUTE_FORCE
  metric: COSINE         # COSINE | IP | L2
  params: {}             # build parameters, e.g. {M: 16, efConstruction: 200} for HNSW
  search_params: {}      # search parameters, e.g. {ef: 64} for HNSW

embedding:
  provider: onnx         # onnx (offline default) | sentence-transformers | openai
  model: all-MiniLM-L6-v2
  # model_path: /models/my-model.onnx     # another ONNX model (with tokenizer_path)
  # base_url: http://localhost:8000/v1    # for provider: openai
  # dimension: 384                        # checked against the model when set
  batch_size: 32
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

search:
  top_k: 5

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
