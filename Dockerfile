# The cosmo API image (CPU torch; the GPU work happens in the vLLM service).
FROM python:3.11-slim
WORKDIR /app/cosmo
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY . .
RUN pip install --no-cache-dir .
ENV HF_HUB_OFFLINE=1 COSMO_STATE_DIR=/data/cosmo
EXPOSE 8080
CMD ["cosmo", "serve", "--host", "0.0.0.0", "--port", "8080"]
