# The cosmo API image (the GPU work happens in the vLLM service). torch comes from PyPI by
# default; for a smaller image without CUDA libraries, pass PyTorch's CPU wheel index:
#   docker build --build-arg TORCH_INDEX_URL=<that index> .
FROM python:3.11-slim
ARG TORCH_INDEX_URL=
WORKDIR /app/cosmo
RUN pip install --no-cache-dir torch==2.13.0 ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
COPY . .
RUN pip install --no-cache-dir .
ENV HF_HUB_OFFLINE=1 COSMO_STATE_DIR=/data/cosmo
EXPOSE 8080
CMD ["cosmo", "serve", "--host", "0.0.0.0", "--port", "8080"]
